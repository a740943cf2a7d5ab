"""The MIS column headings an import accepts, and the cleaning of each kind of cell.

Common MIS exports name their columns differently ("Legal Surname", "Surname", "Last
Name" …); `map_columns` finds ours among them. The `parse_*` functions turn a cell into a
value or raise `CellProblem` with words a SENCO can act on.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any

from django.db import models

from pupils.codes import Ethnicity, Gender, Need, SenStatus, lookup
from pupils.models import NC_YEAR_MAX, NC_YEAR_MIN

# --- Mapping MIS column headings to fields -----------------------------------------------


def norm_heading(text: str) -> str:
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


# Field → the headings MIS exports use for it, best first (SIMS, Arbor, Bromcom, ScholarPack).
HEADINGS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN"),
    "last_name": ("Legal Surname", "Surname", "Last Name", "Family Name", "Legal Last Name"),
    "first_name": ("Legal Forename", "Forename", "First Name", "Legal First Name", "Given Name"),
    "preferred_name": ("Preferred Forename", "Preferred First Name", "Preferred Name", "Known As"),
    "date_of_birth": ("DOB", "Date of Birth", "Birth Date"),
    "gender": ("Gender", "Sex"),
    "nc_year": (
        "NC Year",
        "NC Year Actual",
        "National Curriculum Year",
        "Curriculum Year",
        "Year Group",
        "Year",
    ),
    "ethnicity": ("Ethnicity", "Ethnicity Code", "Ethnic Code", "Ethnic Group"),
    "fsm": ("FSM", "FSM Eligible", "FSM Eligibility", "Free School Meals", "FSM Status"),
    "pupil_premium": ("Pupil Premium", "PP", "PP Eligible", "Pupil Premium Eligible"),
    "eal": ("EAL", "English as an Additional Language"),
    "looked_after": ("Looked After", "CLA", "LAC", "CiC", "Child Looked After", "In Care"),
    "sen_status": ("SEN Status", "SEN Provision", "SEN Stage", "SEN"),
    "primary_need": (
        "Primary Need",
        "SEN Primary Need",
        "Primary SEN Need",
        "Type of Need",
        "SEN Need",
        "Primary Type of Need",
    ),
    "secondary_need": (
        "Secondary Need",
        "SEN Secondary Need",
        "Secondary SEN Need",
        "Secondary Type of Need",
    ),
    "left_on": ("Leaving Date", "Date of Leaving", "Date Left", "Left Date", "Leaver Date"),
}
ALIASES: dict[str, str] = {norm_heading(h): name for name, headings in HEADINGS.items() for h in headings}
REQUIRED = ("upn", "last_name", "first_name", "date_of_birth", "nc_year")
LABELS = {
    "upn": "UPN",
    "last_name": "legal surname",
    "first_name": "legal forename",
    "preferred_name": "preferred forename",
    "date_of_birth": "date of birth",
    "gender": "gender",
    "nc_year": "NC year",
    "ethnicity": "ethnicity",
    "fsm": "FSM",
    "pupil_premium": "pupil premium",
    "eal": "EAL",
    "looked_after": "looked after",
    "sen_status": "SEN status",
    "primary_need": "primary need",
    "secondary_need": "secondary need",
    "left_on": "leaving date",
    "is_active": "on roll",
}
# Everything an import may set, in the order changes are reported.
FIELDS = (*HEADINGS, "is_active")
DEFAULTS: dict[str, Any] = {
    "preferred_name": "",
    "gender": "",
    "ethnicity": "",
    "fsm": False,
    "pupil_premium": False,
    "eal": False,
    "looked_after": False,
    "sen_status": SenStatus.NONE.value,
    "primary_need": "",
    "secondary_need": "",
    "left_on": None,
    "is_active": True,
}


def accepted_headings() -> dict[str, tuple[str, ...]]:
    """For the upload page's hint: the headings each field accepts, by its label."""
    return {LABELS[name]: headings for name, headings in HEADINGS.items()}


def map_columns(headings: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """(field → the heading used for it, headings not used). The best-known heading wins."""
    by_field: dict[str, list[str]] = defaultdict(list)
    unused = []
    for heading in headings:
        name = ALIASES.get(norm_heading(heading))
        if name is None:
            unused.append(heading)
        else:
            by_field[name].append(heading)
    columns = {}
    for name, found in by_field.items():
        rank = {norm_heading(h): i for i, h in enumerate(HEADINGS[name])}
        found.sort(key=lambda h: rank[norm_heading(h)])
        columns[name] = found[0]
        unused += found[1:]
    return columns, unused


# --- Cleaning cells ------------------------------------------------------------------------


class CellProblem(Exception):
    """One cell's problem, in words that follow "Row N: "."""


def quote_cell(value: Any) -> str:
    text = str(value)
    return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"


_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def parse_date(value: Any, label: str, *, today: date) -> date | None:
    """Day first (dd/mm/yyyy, dd-mm-yyyy, dd/mm/yy) or ISO; None when blank."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            # Two-digit years are this century unless that would be in the future.
            year += 2000 if 2000 + year <= today.year else 1900
    else:
        raise CellProblem(f"{label} {quote_cell(text)} is not a date; write it as dd/mm/yyyy")
    try:
        return date(year, month, day)
    except ValueError:
        raise CellProblem(f"{label} {quote_cell(text)} is not a real date") from None


_TRUE = {"y", "yes", "true", "t", "1"}
_FALSE = {"n", "no", "false", "f", "0", ""}


def parse_bool(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellProblem(f"{label} {quote_cell(value)} is not Y or N")


_YEAR_WORDS = {
    "r": 0,
    "rec": 0,
    "reception": 0,
    "n1": -2,
    "nursery1": -2,
    "n2": -1,
    "nursery2": -1,
}
_YEAR_PREFIX = re.compile(r"^(?:ncyear|year|yr|y)")
_YEAR_NUMBER = re.compile(r"[-−]?\d{1,3}")


def parse_nc_year(value: Any) -> int:
    """A year group as MIS exports write it: 7, Y7, Year 7, R, Reception, N1, N2."""
    compact = re.sub(r"\s+", "", str(value).lower())
    if not compact:
        raise CellProblem("NC year is missing")
    for candidate in (compact, _YEAR_PREFIX.sub("", compact)):
        if candidate in _YEAR_WORDS:
            return _YEAR_WORDS[candidate]
        if _YEAR_NUMBER.fullmatch(candidate):
            year = int(candidate.replace("−", "-"))
            if NC_YEAR_MIN <= year <= NC_YEAR_MAX:
                return year
            raise CellProblem(f"NC year {quote_cell(value)} is out of range (N1, N2, R, or 1 to 14)")
    raise CellProblem(f"NC year {quote_cell(value)} is not a year group (N1, N2, R, or 1 to 14)")


# Words MIS exports use that are neither our codes nor our labels.
_SYNONYMS: dict[type[models.TextChoices], dict[str, str]] = {
    SenStatus: {
        "ehcp": SenStatus.EHC_PLAN,
        "educationhealthandcareplan": SenStatus.EHC_PLAN,
        "none": SenStatus.NONE,
        "nosenprovision": SenStatus.NONE,
    },
    Gender: {"girl": Gender.FEMALE, "boy": Gender.MALE},
    Need: {"asc": Need.ASD, "autism": Need.ASD},
    Ethnicity: {},
}


@lru_cache(maxsize=4096)
def _code(choices: type[models.TextChoices], value: str) -> str | None:
    # Cached: a 5,000-row file repeats a few dozen distinct values.
    code = lookup(choices, value)
    if code is None:
        code = _SYNONYMS[choices].get(norm_heading(value))
    return str(code) if code is not None else None


_CODE_HINTS = {
    SenStatus: "E (EHC plan), K (SEN support) or N (no SEN)",
    Gender: "F or M",
    Need: "a census type of need such as SPLD, MLD, SEMH, SLCN, ASD or NSA",
    Ethnicity: "a census ethnicity code such as WBRI, or its description",
}


def parse_code(value: Any, choices: type[models.TextChoices], label: str) -> str:
    text = str(value).strip()
    if not text:
        return ""
    code = _code(choices, text)
    if code is None:
        raise CellProblem(f"{label} {quote_cell(text)} is not a known code; use {_CODE_HINTS[choices]}")
    return code


def parse_name(value: Any, label: str, *, required: bool) -> str:
    text = " ".join(str(value).split())
    if required and not text:
        raise CellProblem(f"{label} is missing")
    if len(text) > 100:
        raise CellProblem(f"{label} is longer than 100 characters")
    return text
