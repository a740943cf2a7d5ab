"""Importing pupils from a school's MIS export (CSV or XLSX): read, preview, commit.

Three steps, each a service the browser, the API and `manage.py import_pupils` share:

1. `read_table(data, filename)` turns the uploaded bytes into rows of {column name: text}.
   Hostile or broken files (undecodable text, too big, not a zip, a zip bomb, an XML bomb)
   end here with `ImportRejected` and a message a SENCO can act on.
2. `preview_import(school=, rows=)` maps the MIS column names, cleans every cell and says
   for each row what would happen (create, update with the changed fields, unchanged) or
   what is wrong with it, in plain words with the row number the spreadsheet shows.
3. `commit_import(...)` saves a valid preview all or nothing, in one transaction, with the
   SEN register entries and audit rows that a change by hand would write.

Callers run inside the school's tenant scope (a request's, or `tenant_scope()` in a
command); pupils are found through it, so a UPN another school holds is simply not seen
and a row naming it creates a new pupil here.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from pupils.codes import Ethnicity, Gender, Need, SenStatus, lookup
from pupils.models import NC_YEAR_MAX, NC_YEAR_MIN, Pupil, SenStatusChange, nc_year_label, validate_upn
from pupils.services import SEN_FIELDS, sen_entry
from schools.audit import Action, audit, audit_each
from schools.models import School, User
from schools.tenancy import require_scope

logger = logging.getLogger(__name__)

# --- Limits ------------------------------------------------------------------------------
# The upload cap lives in settings (PUPIL_IMPORT_MAX_BYTES); the rest protect the parser.
MAX_ROWS = 20_000  # a large secondary school has about 2,000 pupils on roll
MAX_COLUMNS = 200  # cells to the right of this are never read
XLSX_MAX_MEMBERS = 500  # files inside the zip; Excel writes a dozen or two
XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024  # all members together, once unzipped
XLSX_MAX_RATIO = 100  # unzipped / zipped size of one member; real sheets stay far below
XLSX_RATIO_FLOOR = 1024 * 1024  # small members may compress as well as they like
# openpyxl reads about 1.5 MB of sheet XML a second here (5,000 pupils take about 2 s), so
# a file inside the caps above can still take long; past this budget reading stops.
XLSX_READ_SECONDS = 30.0
# Excel never writes a document type declaration; entity bombs and external entities
# need one, so a workbook holding one is refused before any XML parser sees it.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
ROW_KEY = "_row"  # where read_table puts the row number the spreadsheet shows

ACTION_CREATE, ACTION_UPDATE, ACTION_UNCHANGED, ACTION_ERROR = "create", "update", "unchanged", "error"


class ImportRejected(Exception):
    """The file or the import as a whole cannot go ahead; `messages` say why, in plain words."""

    def __init__(self, messages: str | Iterable[str]) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("; ".join(self.messages))


def max_upload_bytes() -> int:
    return int(getattr(settings, "PUPIL_IMPORT_MAX_BYTES", 5 * 1024 * 1024))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def too_big_message() -> str:
    return f"The file is larger than {_megabytes(max_upload_bytes())}, the most an import takes."


# --- Reading the file --------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> list[dict]:
    """The rows of a CSV or XLSX file as {column heading: cell}, each with its row number.

    Cells are stripped text, or a `date` or `bool` where an XLSX cell holds one. Blank rows
    are dropped; the row number (`ROW_KEY`) is the one the spreadsheet shows, heading = 1.
    """
    if len(data) > max_upload_bytes():
        raise ImportRejected(too_big_message())
    if not data:
        raise ImportRejected("The file is empty.")
    name = (filename or "").lower()
    if name.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRejected(
            "This is an old-style Excel file (.xls) or a password-protected workbook, which cannot "
            "be read. Save it from Excel as .xlsx (without a password) or as CSV, and upload that."
        )
    if name.endswith((".xlsx", ".xlsm")) or data.startswith(b"PK\x03\x04"):
        grid = _read_xlsx(data)
    elif name.endswith((".csv", ".txt")) or "." not in name.rsplit("/", 1)[-1]:
        grid = _read_csv(data)
    else:
        raise ImportRejected("Upload a CSV file (.csv) or an Excel workbook (.xlsx).")
    return _rows_from_grid(grid)


def _rows_from_grid(grid: Iterator[tuple[int, list[Any]]]) -> list[dict]:
    header: list[str] | None = None
    rows: list[dict] = []
    for number, cells in grid:
        cells = [_clean_cell(c) for c in (cells[: len(header)] if header is not None else cells)]
        if header is None:
            header = [str(c).replace("\ufeff", "").strip() for c in cells]
            if not any(header):
                raise ImportRejected(
                    "The first row must hold the column headings (UPN, Legal Surname …), but it is blank."
                )
            _check_duplicate_headings(header)
            continue
        if not any(c not in ("", None) for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportRejected(f"The file has more than {MAX_ROWS:,} rows of pupils; split it into parts.")
        row: dict[str, Any] = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
        row[ROW_KEY] = number
        rows.append(row)
    if header is None:
        raise ImportRejected("The file is empty.")
    return rows


def _check_duplicate_headings(header: list[str]) -> None:
    seen: dict[str, str] = {}
    for heading in header:
        key = _norm(heading)
        if key in ALIASES and key in seen:
            raise ImportRejected(f"The column “{heading}” appears twice; remove one and upload again.")
        seen[key] = heading


def _clean_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), UTF-16 with a mark, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "cp1252"]
    failure: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            failure = exc
    assert failure is not None
    byte = failure.object[failure.start : failure.start + 1].hex().upper()
    raise ImportRejected(
        "The file's text cannot be read: it is neither UTF-8 nor Windows-1252 "
        f"(byte 0x{byte} at position {failure.start:,}). Save it from your MIS or spreadsheet as "
        "“CSV UTF-8” and upload it again."
    )


def _read_csv(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data)
    if "\x00" in text:
        raise ImportRejected(
            "The file holds NUL characters, so it is not CSV text. "
            "Save it as CSV (or .xlsx) and upload it again."
        )
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:
        raise ImportRejected(f"Row {number + 1}: the CSV cannot be read ({exc}).") from None


def _read_xlsx(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    deadline = time.monotonic() + XLSX_READ_SECONDS
    _check_zip(data)
    # openpyxl reads its XML through defusedxml (installed), the second wall after the
    # document-type check in _check_zip; read-only mode streams rows instead of building
    # the whole sheet, and data_only gives the values Excel last calculated, never formulas.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable(exc) from None
    try:
        if not workbook.worksheets:
            raise ImportRejected("The workbook has no worksheet to read.")
        sheet = workbook.worksheets[0]
        # The recorded dimensions may be wrong (or hostile): read what is there instead.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        for number, cells in enumerate(rows, start=1):
            if number > MAX_ROWS * 2:
                raise ImportRejected(
                    f"The first sheet has more than {MAX_ROWS:,} rows of pupils; split it into parts."
                )
            if number % 500 == 0 and time.monotonic() > deadline:
                raise ImportRejected(
                    "The workbook is too large to read in reasonable time. Keep only the pupil columns, "
                    "or export it as CSV, and upload it again."
                )
            yield number, list(cells)
    except ImportRejected:
        raise
    except Exception as exc:
        raise _unreadable(exc) from None
    finally:
        workbook.close()


def _unreadable(exc: BaseException) -> ImportRejected:
    """openpyxl wraps parser errors in its own; defusedxml's refusal may sit a few causes down."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return ImportRejected(_xml_bomb_message())
        seen = seen.__cause__ or seen.__context__
    return ImportRejected(_damaged_message())


def _damaged_message() -> str:
    return (
        "The workbook cannot be read: it is damaged or not a real Excel .xlsx file. "
        "Open it in Excel and save it again as .xlsx, or export it as CSV."
    )


def _xml_bomb_message() -> str:
    return (
        "The workbook was refused: it contains XML entity declarations, which Excel never writes "
        "and which are used to build “XML bombs”. Export the data from your MIS again."
    )


def _zip_bomb_message() -> str:
    return (
        "The workbook was refused: it unpacks to far more data than a pupil list could hold "
        "(it looks like a “zip bomb”). Export the data from your MIS again."
    )


def _check_zip(data: bytes) -> None:
    """Look inside the zip before openpyxl does: size, ratio, member count, no DTDs.

    zipfile never unpacks a member past the size its header declares (it cuts the data and
    the CRC check then fails), so the declared sizes are a true bound on what we read.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ImportRejected(
            "This file is not an Excel .xlsx workbook (an .xlsx file is a zip archive, and this one "
            "is not). Save it from Excel as .xlsx, or export it as CSV."
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > XLSX_MAX_MEMBERS:
            raise ImportRejected(_zip_bomb_message())
        if sum(m.file_size for m in members) > XLSX_MAX_UNCOMPRESSED:
            raise ImportRejected(_zip_bomb_message())
        for member in members:
            if member.file_size > XLSX_RATIO_FLOOR and member.file_size > XLSX_MAX_RATIO * max(
                member.compress_size, 1
            ):
                raise ImportRejected(_zip_bomb_message())
        for member in members:
            try:
                if _has_dtd(archive, member):
                    raise ImportRejected(_xml_bomb_message())
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, OSError):
                raise ImportRejected(_damaged_message()) from None


def _has_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    overlap = max(len(m) for m in _DTD_MARKERS)
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1024 * 1024):
            window = tail + chunk
            if any(marker in window for marker in _DTD_MARKERS):
                return True
            tail = window[-overlap:]
    return False


# --- Mapping MIS column headings to fields -----------------------------------------------


def _norm(text: str) -> str:
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
ALIASES: dict[str, str] = {_norm(h): name for name, headings in HEADINGS.items() for h in headings}
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
        name = ALIASES.get(_norm(heading))
        if name is None:
            unused.append(heading)
        else:
            by_field[name].append(heading)
    columns = {}
    for name, found in by_field.items():
        rank = {_norm(h): i for i, h in enumerate(HEADINGS[name])}
        found.sort(key=lambda h: rank[_norm(h)])
        columns[name] = found[0]
        unused += found[1:]
    return columns, unused


# --- Cleaning cells ------------------------------------------------------------------------


class _Problem(Exception):
    """One cell's problem, in words that follow "Row N: "."""


def _quote(value: Any) -> str:
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
        raise _Problem(f"{label} {_quote(text)} is not a date; write it as dd/mm/yyyy")
    try:
        return date(year, month, day)
    except ValueError:
        raise _Problem(f"{label} {_quote(text)} is not a real date") from None


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
    raise _Problem(f"{label} {_quote(value)} is not Y or N")


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
        raise _Problem("NC year is missing")
    for candidate in (compact, _YEAR_PREFIX.sub("", compact)):
        if candidate in _YEAR_WORDS:
            return _YEAR_WORDS[candidate]
        if _YEAR_NUMBER.fullmatch(candidate):
            year = int(candidate.replace("−", "-"))
            if NC_YEAR_MIN <= year <= NC_YEAR_MAX:
                return year
            raise _Problem(f"NC year {_quote(value)} is out of range (N1, N2, R, or 1 to 14)")
    raise _Problem(f"NC year {_quote(value)} is not a year group (N1, N2, R, or 1 to 14)")


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
        code = _SYNONYMS[choices].get(_norm(value))
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
        raise _Problem(f"{label} {_quote(text)} is not a known code; use {_CODE_HINTS[choices]}")
    return code


def parse_name(value: Any, label: str, *, required: bool) -> str:
    text = " ".join(str(value).split())
    if required and not text:
        raise _Problem(f"{label} is missing")
    if len(text) > 100:
        raise _Problem(f"{label} is longer than 100 characters")
    return text


# --- The preview ---------------------------------------------------------------------------


@dataclass
class RowPreview:
    """One row of the file: what it says (cleaned), what is wrong, and what would happen."""

    number: int
    upn: str
    values: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    action: str = ACTION_ERROR
    changed: list[str] = field(default_factory=list)
    # Every importable field as the pupil would have it after the import (set by _plan).
    after: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return f"{self.values.get('last_name', '')}, {self.values.get('first_name', '')}".strip(", ")

    @property
    def year_label(self) -> str:
        year = self.values.get("nc_year")
        return nc_year_label(year) if year is not None else ""

    @property
    def changed_labels(self) -> list[str]:
        return [LABELS[name] for name in self.changed]

    def as_dict(self) -> dict[str, Any]:
        values = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.values.items()}
        return {
            "row": self.number,
            "upn": self.upn,
            "action": self.action,
            "changed": self.changed,
            "problems": self.problems,
            "warnings": self.warnings,
            "values": values,
        }


@dataclass
class ImportPreview:
    school_id: int
    file_errors: list[str] = field(default_factory=list)
    rows: list[RowPreview] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field → heading in the file
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.problems for r in self.rows)

    @property
    def problems(self) -> list[str]:
        return self.file_errors + [p for r in self.rows for p in r.problems]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((ACTION_CREATE, ACTION_UPDATE, ACTION_UNCHANGED, ACTION_ERROR), 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.is_valid,
            "file_errors": self.file_errors,
            "problems": self.problems,
            "counts": self.counts,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "rows": [r.as_dict() for r in self.rows],
        }


def _require_school_scope(school: School) -> None:
    """Pupils are found through the scope alone, so it must be this one school's."""
    scope = require_scope()
    if scope.read_school != frozenset({school.pk}) or school.pk not in scope.write_school:
        raise ImportRejected("Pupils can only be imported by staff of the school they belong to.")


def preview_file(*, school: School, data: bytes, filename: str) -> ImportPreview:
    """read_table and preview_import together; a file that cannot be read becomes file errors."""
    try:
        rows = read_table(data, filename)
    except ImportRejected as exc:
        return ImportPreview(school_id=school.pk, file_errors=exc.messages)
    return preview_import(school=school, rows=rows)


def preview_import(*, school: School, rows: list[dict], today: date | None = None) -> ImportPreview:
    """What importing `rows` into `school` would do, row by row. Changes nothing."""
    _require_school_scope(school)
    today = today or timezone.localdate()
    headings = [h for h in (rows[0] if rows else {}) if h != ROW_KEY]
    columns, ignored = map_columns(headings)
    preview = ImportPreview(school_id=school.pk, columns=columns, ignored_columns=ignored)
    missing = [LABELS[name] for name in REQUIRED if name not in columns]
    if not rows:
        preview.file_errors.append("The file has column headings but no pupils.")
        return preview
    if missing:
        preview.file_errors.append(
            "The file has no column for the "
            + _join(missing)
            + ". Accepted headings include "
            + "; ".join(f"{LABELS[n]}: {', '.join(HEADINGS[n][:3])}" for n in REQUIRED if n not in columns)
            + "."
        )
        return preview

    first_row: dict[str, int] = {}
    for raw in rows:
        row = _clean_row(raw, columns, today)
        if row.upn:
            if row.upn in first_row:
                row.problems.append(
                    f"Row {row.number}: UPN {row.upn} appears again (first on row {first_row[row.upn]})"
                )
            else:
                first_row[row.upn] = row.number
        preview.rows.append(row)
    existing = {p.upn: p for p in Pupil.objects.filter(upn__in=list(first_row))}
    for row in preview.rows:
        _plan(row, existing.get(row.upn))
    return preview


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _clean_row(raw: dict, columns: dict[str, str], today: date) -> RowPreview:
    number = raw[ROW_KEY]
    cell = {name: raw.get(heading, "") for name, heading in columns.items()}
    row = RowPreview(number=number, upn="", values={})
    values = row.values

    def check(name: str, parse) -> None:
        if name not in cell:
            return
        try:
            values[name] = parse(cell[name])
        except _Problem as exc:
            row.problems.append(f"Row {number}: {exc}")

    upn_text = str(cell["upn"]).strip()
    if not upn_text:
        row.problems.append(f"Row {number}: the UPN is missing")
    else:
        try:
            row.upn = values["upn"] = validate_upn(upn_text)
        except ValidationError as exc:
            reason = (exc.params or {}).get("reason", "")
            if "check" in reason:
                row.problems.append(f"Row {number}: UPN {upn_text} is not valid – its check letter is wrong")
            else:
                row.problems.append(f"Row {number}: UPN {_quote(upn_text)} is not a valid UPN: {reason}")
    check("last_name", lambda v: parse_name(v, "the legal surname", required=True))
    check("first_name", lambda v: parse_name(v, "the legal forename", required=True))
    check("preferred_name", lambda v: parse_name(v, "the preferred forename", required=False))
    check("date_of_birth", lambda v: _date_of_birth(v, today))
    check("gender", lambda v: parse_code(v, Gender, "gender"))
    check("nc_year", parse_nc_year)
    check("ethnicity", lambda v: parse_code(v, Ethnicity, "ethnicity"))
    for name in ("fsm", "pupil_premium", "eal", "looked_after"):
        check(name, lambda v, label=LABELS[name]: parse_bool(v, label))
    check("sen_status", lambda v: parse_code(v, SenStatus, "SEN status") or SenStatus.NONE.value)
    check("primary_need", lambda v: parse_code(v, Need, "primary need"))
    check("secondary_need", lambda v: parse_code(v, Need, "secondary need"))
    check("left_on", lambda v: parse_date(v, "leaving date", today=today))
    if "left_on" in values:
        values["is_active"] = values["left_on"] is None
    dob, year = values.get("date_of_birth"), values.get("nc_year")
    if dob is not None and year is not None and (warning := _age_warning(dob, year, today)):
        row.warnings.append(f"Row {number}: {warning}")
    return row


def _date_of_birth(value: Any, today: date) -> date:
    born = parse_date(value, "date of birth", today=today)
    if born is None:
        raise _Problem("date of birth is missing")
    if born > today:
        raise _Problem(f"date of birth {born:%d/%m/%Y} is in the future")
    return born


def _age_warning(born: date, nc_year: int, today: date) -> str:
    # A child starts reception in the September after turning four, so the academic year
    # of birth (September to August) gives the expected year group.
    start = today.year if today.month >= 9 else today.year - 1
    born_in = born.year if born.month >= 9 else born.year - 1
    expected = start - born_in - 5
    if abs(expected - nc_year) < 2:
        return ""
    return (
        f"date of birth {born:%d/%m/%Y} would put the pupil in {nc_year_label(expected)}, "
        f"not {nc_year_label(nc_year)} – check both"
    )


def _plan(row: RowPreview, pupil: Pupil | None) -> None:
    """Settle the row's action and changed fields against the pupil now on the register."""
    if row.problems:
        row.action, row.changed = ACTION_ERROR, []
        return
    before = {name: getattr(pupil, name) for name in FIELDS} if pupil else dict(DEFAULTS)
    after = {**before, **row.values}
    if "sen_status" in row.values and after["sen_status"] == SenStatus.NONE:
        # Leaving the register ends the recorded need, unless the file gives one (an error below).
        for name in ("primary_need", "secondary_need"):
            if name not in row.values:
                after[name] = ""
    if pupil is None or set(SEN_FIELDS) & set(row.values):
        # A row that gives no SEN column cannot break these rules, whatever the record holds.
        row.problems += [f"Row {row.number}: {p}" for p in _need_problems(after, row.values)]
    if row.problems:
        row.action = ACTION_ERROR
        return
    row.after = after
    if pupil is None:
        row.action, row.changed = ACTION_CREATE, [n for n in FIELDS if n in row.values]
        return
    row.changed = [name for name in FIELDS if after[name] != before[name]]
    row.action = ACTION_UPDATE if row.changed else ACTION_UNCHANGED


def _need_problems(after: dict[str, Any], given: dict[str, Any]) -> list[str]:
    status, primary, secondary = after["sen_status"], after["primary_need"], after["secondary_need"]
    where = "the file gives" if "sen_status" in given else "the pupil's record has"
    if status == SenStatus.NONE and (primary or secondary):
        return [
            f"a type of need ({primary or secondary}) is given but {where} SEN status N (no SEN); "
            "needs are recorded only for pupils on SEN support (K) or with an EHC plan (E)"
        ]
    problems = []
    if status != SenStatus.NONE and not primary:
        problems.append(
            f"SEN status {status} ({SenStatus(status).label}) needs a primary need (NSA if not yet assessed)"
        )
    if secondary and secondary == primary:
        problems.append(f"the secondary need {secondary} is the same as the primary need")
    return problems


# --- The commit ----------------------------------------------------------------------------


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: dict[str, list[str]] = field(default_factory=dict)  # UPN → changed fields (updates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "changes": self.changes,
        }

    def __str__(self) -> str:
        return (
            f"{self.created} pupil{'s' * (self.created != 1)} added, {self.updated} updated, "
            f"{self.unchanged} unchanged."
        )


BATCH = 1000


def commit_import(
    *, request: HttpRequest | None, school: School, preview: ImportPreview, source: str = "import"
) -> ImportSummary:
    """Save a valid preview, all or nothing. Raises ImportRejected, having changed nothing."""
    if preview.school_id != school.pk:
        raise ImportRejected("This preview was made for another school.")
    if not preview.is_valid:
        raise ImportRejected(preview.problems or ["The file has no pupils to import."])
    _require_school_scope(school)
    try:
        with transaction.atomic():
            return _commit(request, school, preview, source)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint != "pupil_upn_unique_in_school":
            # Not a race: a rule the preview should have caught. Name the rule, never the row.
            logger.error("pupil import broke constraint %s", constraint)
        raise ImportRejected(
            "The register changed while the import was being saved, so nothing was saved. "
            "Preview the file again."
        ) from None


def _commit(
    request: HttpRequest | None, school: School, preview: ImportPreview, source: str
) -> ImportSummary:
    # Lock the pupils the file names and plan again against what is there now: the preview
    # may be minutes old, and nothing from it but the cleaned cells is trusted.
    upns = [row.upn for row in preview.rows]
    existing = {p.upn: p for p in Pupil.objects.select_for_update().filter(upn__in=upns)}
    rows = [
        RowPreview(number=r.number, upn=r.upn, values=dict(r.values), warnings=r.warnings)
        for r in preview.rows
    ]
    for row in rows:
        _plan(row, existing.get(row.upn))
    problems = [p for row in rows for p in row.problems]
    if problems:
        raise ImportRejected(["The register changed since the preview; nothing was saved.", *problems])

    user = _acting_user(request)
    today = timezone.localdate()
    now = timezone.now()
    summary = ImportSummary()
    new = [Pupil(school=school, **row.after) for row in rows if row.action == ACTION_CREATE]
    Pupil.objects.bulk_create(new, batch_size=BATCH)

    changed: list[Pupil] = []
    for row in rows:
        if row.action == ACTION_UPDATE:
            pupil = existing[row.upn]
            for name in row.changed:
                setattr(pupil, name, row.after[name])
            changed.append(pupil)
            summary.changes[row.upn] = row.changed
        elif row.action == ACTION_UNCHANGED:
            summary.unchanged += 1
    _save_changes(changed, summary.changes, now)
    summary.created, summary.updated = len(new), len(changed)

    sen_moved = [p for p in changed if set(summary.changes[p.upn]) & set(SEN_FIELDS)]
    entries = [sen_entry(p, start=today, user=user, source=source) for p in new + sen_moved]
    SenStatusChange.objects.bulk_create(entries, batch_size=BATCH)

    created_fields = {row.upn: [n for n in FIELDS if n in row.values] for row in rows}
    audit_each(
        request,
        Action.CREATE,
        new,
        details=[{"fields": created_fields[p.upn], "source": source} for p in new],
    )
    audit_each(
        request,
        Action.UPDATE,
        changed,
        details=[{"fields": summary.changes[p.upn], "source": source} for p in changed],
    )
    # One row for the import itself: counts only, as audit details must be.
    audit(
        request,
        Action.CREATE,
        object_type="pupils.import",
        school_id=school.pk,
        detail={
            "source": source,
            "created": summary.created,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
        },
    )
    return summary


# Fields written together: the database checks the SEN ones against each other in every
# statement (no need without SEN, needs differ), so they never move one at a time.
UNITS: tuple[tuple[str, ...], ...] = (
    ("sen_status", "primary_need", "secondary_need"),
    ("left_on", "is_active"),
    *((name,) for name in FIELDS if name not in SEN_FIELDS and name not in ("left_on", "is_active")),
)
# A unit whose new values are this few is written with one UPDATE per value; otherwise
# (names, dates of birth) with bulk_update's CASE per pupil, which costs far more to build.
FEW_VALUES = 20


def _save_changes(pupils: list[Pupil], changes: dict[str, list[str]], now: datetime) -> None:
    """Write the fields that changed, for each pupil, in as few statements as we can.

    Only changed fields are written, except that a unit above is written whole (its other
    fields keep the values they had). Updates go through the scoped manager, so they reach
    this school's pupils alone.
    """
    by_unit: dict[tuple[str, ...], dict[tuple, list[Pupil]]] = defaultdict(lambda: defaultdict(list))
    for pupil in pupils:
        changed = set(changes[pupil.upn])
        for unit in UNITS:
            if changed.intersection(unit):
                by_unit[unit][tuple(getattr(pupil, name) for name in unit)].append(pupil)
    for unit, by_value in by_unit.items():
        if len(by_value) <= FEW_VALUES:
            for values, group in by_value.items():
                Pupil.objects.filter(pk__in=[p.pk for p in group]).update(
                    **dict(zip(unit, values, strict=True))
                )
        else:
            group = [p for members in by_value.values() for p in members]
            Pupil.objects.bulk_update(group, list(unit), batch_size=BATCH)
    if pupils:
        # updated_at is auto_now, which neither update() nor bulk_update() fills in.
        Pupil.objects.filter(pk__in=[p.pk for p in pupils]).update(updated_at=now)


def _acting_user(request: HttpRequest | None) -> User | None:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
