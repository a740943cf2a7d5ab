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

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from pupils.codes import Ethnicity, Gender, Need, SenStatus
from pupils.import_columns import (
    DEFAULTS,
    FIELDS,
    HEADINGS,
    LABELS,
    REQUIRED,
    CellProblem,
    map_columns,
    norm_heading,
    parse_bool,
    parse_code,
    parse_date,
    parse_name,
    parse_nc_year,
    quote_cell,
)
from pupils.import_files import ROW_KEY, ImportRejected, read_table
from pupils.models import Pupil, SenStatusChange, nc_year_label, validate_upn
from pupils.services import SEN_FIELDS, acting_user, sen_entry
from schools.audit import Action, audit, audit_each
from schools.models import School
from schools.tenancy import require_scope

logger = logging.getLogger(__name__)

ACTION_CREATE, ACTION_UPDATE, ACTION_UNCHANGED, ACTION_ERROR = "create", "update", "unchanged", "error"

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


LISTED = 1000  # rows and problems a preview answer lists at most


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
        # A file of thousands of bad rows must not become an answer of tens of megabytes:
        # the first LISTED rows and problems are enough to act on, and the totals say the rest.
        problems = self.problems
        return {
            "valid": self.is_valid,
            "file_errors": self.file_errors,
            "problems": problems[:LISTED],
            "problems_total": len(problems),
            "counts": self.counts,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "rows": [r.as_dict() for r in self.rows[:LISTED]],
            "rows_total": len(self.rows),
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

    school_columns = [h for h in ignored if norm_heading(h) in SCHOOL_HEADINGS]
    first_row: dict[str, int] = {}
    for raw in rows:
        row = _clean_row(raw, columns, today)
        row.problems += _other_school_problems(raw, school_columns, school, row.number)
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
        _plan(row, existing.get(row.upn), school)
    return preview


# Headings under which MIS exports name the pupil's school: its URN, or LA and DfE number.
SCHOOL_HEADINGS = {"urn", "schoolurn", "laestab", "dfeno", "dfenumber", "dfeestablishmentnumber"}


def _other_school_problems(raw: dict, school_columns: list[str], school: School, number: int) -> list[str]:
    """A row that names another school is refused (SECURITY.md 24).

    The file says which school it names, so saying so reveals nothing; pupils move between
    schools by transfer, not by one school importing another's roll.
    """
    own = {school.urn, f"{school.local_authority.code}{school.urn[-4:]}"}
    problems = []
    for heading in school_columns:
        given = "".join(str(raw.get(heading) or "").split()).replace("/", "").replace("-", "")
        if given and given not in own:
            problems.append(
                f"Row {number}: {heading} {given} is not this school (URN {school.urn}); "
                "import each school's pupils into that school"
            )
    return problems


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
        except CellProblem as exc:
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
                row.problems.append(f"Row {number}: UPN {quote_cell(upn_text)} is not a valid UPN: {reason}")
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
        raise CellProblem("date of birth is missing")
    if born > today:
        raise CellProblem(f"date of birth {born:%d/%m/%Y} is in the future")
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


def _plan(row: RowPreview, pupil: Pupil | None, school: School) -> None:
    """Settle the row's action and changed fields against the pupil now on the register."""
    if pupil is not None and pupil.school_id != school.pk:
        # Readable by name alone: this school sent the pupil on (pupils/transfers.py).
        row.problems.append(
            f"Row {row.number}: the pupil with UPN {row.upn} was transferred to another school; "
            "take the row out of the file (their record is that school's now)"
        )
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
        _plan(row, existing.get(row.upn), school)
    problems = [p for row in rows for p in row.problems]
    if problems:
        raise ImportRejected(["The register changed since the preview; nothing was saved.", *problems])

    user = acting_user(request)
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
