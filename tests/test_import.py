"""Importing pupils from MIS exports (CSV and XLSX): the pipeline, the command, the browser, the API.

Every bad input must end with a clear message and the database exactly as it was (SECURITY.md 24).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from stdnum.gb import upn as upn_check

from pupils import import_files, imports
from pupils.demo import make_upn
from pupils.imports import ImportRejected, commit_import, preview_file, read_table
from pupils.models import Pupil, SenStatusChange, validate_upn
from schools.models import AuditEvent
from tests.conftest import sign_in

HEAD = ["UPN", "Legal Surname", "Legal Forename", "DOB", "Gender", "NC Year", "SEN Status", "Primary Need"]


def upn(n: int) -> str:
    return make_upn("909", "4321", 2020, n)


def dob(nc_year: int) -> str:
    """A date of birth that fits the NC year this academic year (so no age warning)."""
    today = date.today()
    start = today.year if today.month >= 9 else today.year - 1
    return f"01/12/{start - nc_year - 5}"


def csv_bytes(rows: list[list[str]], head: list[str] = HEAD, *, encoding: str = "utf-8", eol: str = "\r\n"):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=eol)
    writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def good_rows(n: int = 2) -> list[list[str]]:
    return [[upn(i), f"Surname{i}", f"Forename{i}", dob(5), "F", "5", "N", ""] for i in range(1, n + 1)]


def counts(as_school, school) -> tuple[int, int, int]:
    """Pupils, register entries and audit rows of changes (a preview's own read row aside)."""
    with as_school(school):
        changes = AuditEvent.objects.exclude(object_type="pupils.import", action="list")
        return Pupil.objects.count(), SenStatusChange.objects.count(), changes.count()


def preview(as_school, school, data: bytes, filename: str = "pupils.csv"):
    with as_school(school):
        return preview_file(school=school, data=data, filename=filename)


def run_import(as_school, school, data: bytes, filename: str = "pupils.csv"):
    with as_school(school):
        result = preview_file(school=school, data=data, filename=filename)
        assert result.is_valid, result.problems
        return result, commit_import(request=None, school=school, preview=result)


def pupils_by_upn(as_school, school) -> dict[str, Pupil]:
    with as_school(school):
        return {p.upn: p for p in Pupil.objects.all()}


def xlsx_bytes(rows: list[list], head: list[str] = HEAD) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def replace_member(xlsx: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, content if item.filename == name else source.read(item.filename))
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""


def sheet_bomb() -> bytes:
    return BILLION_LAUGHS.replace(
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">\n'
        b"<si><t>&lol9;</t></si></sst>",
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>',
    )


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def xlsx_with_strings() -> bytes:
    """A workbook as Excel writes it, text in xl/sharedStrings.xml (openpyxl writes inline text)."""
    strings = [*HEAD, upn(1), "Smith", "Ann", dob(5), "F", "5", "N"]
    sst = "".join(f"<si><t>{text}</t></si>" for text in strings)
    cells = [
        "".join(f'<c r="{chr(65 + col)}{row + 1}" t="s"><v>{row * 8 + col}</v></c>' for col in range(7))
        for row in range(2)
    ]
    sheet = "".join(f'<row r="{n + 1}">{c}</row>' for n, c in enumerate(cells))
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
            '<sheet name="Pupils" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{sheet}</sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="{len(strings)}">{sst}</sst>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)
    return out.getvalue()


def not_a_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "a zip, but no workbook inside")
    return out.getvalue()


# --- The UPN check letter -------------------------------------------------------------------


def test_upn_check_letter_permanent_and_temporary():
    permanent = upn(7)
    assert validate_upn(permanent) == permanent
    assert validate_upn(f" {permanent.lower()} ") == permanent
    body = "909432120" + "01A"  # a temporary UPN ends in a letter
    temporary = upn_check.calc_check_digit(body) + body
    assert validate_upn(temporary) == temporary
    assert imports.validate_upn is validate_upn  # the import checks with the model's validator
    wrong = ("B" if permanent[0] != "B" else "C") + permanent[1:]
    with pytest.raises(ValidationError):
        validate_upn(wrong)


def test_wrong_check_letter_is_named_in_the_preview(tenant, as_school):
    wrong = ("B" if upn(1)[0] != "B" else "C") + upn(1)[1:]
    rows = good_rows(2)
    rows[1][0] = wrong
    result = preview(as_school, tenant.school, csv_bytes(rows))
    assert not result.is_valid
    assert result.problems == [f"Row 3: UPN {wrong} is not valid – its check letter is wrong"]


# --- Happy paths -------------------------------------------------------------------------------


def test_csv_import_creates_pupils_with_every_column(tenant, as_school):
    head = [
        "UPN",
        "Legal Surname",
        "Legal Forename",
        "Preferred Forename",
        "DOB",
        "Gender",
        "NC Year",
        "Ethnicity",
        "FSM",
        "Pupil Premium",
        "EAL",
        "Looked After",
        "SEN Status",
        "Primary Need",
        "Secondary Need",
        "Leaving Date",
        "Admission Number",
    ]
    rows = [
        [
            upn(1),
            "Ahmed",
            "Amara",
            "Mara",
            dob(5),
            "F",
            "5",
            "AIND",
            "Y",
            "Y",
            "N",
            "N",
            "K",
            "SLCN",
            "ASD",
            "",
            "1",
        ],
        [upn(2), "Brown", "Ben", "", dob(6), "M", "6", "WBRI", "N", "N", "N", "Y", "E", "ASD", "", "", "2"],
        [
            upn(3),
            "Clarke",
            "Chloe",
            "",
            dob(6),
            "F",
            "6",
            "",
            "N",
            "N",
            "Y",
            "N",
            "N",
            "",
            "",
            "20/07/2024",
            "3",
        ],
    ]
    result, summary = run_import(as_school, tenant.school, csv_bytes(rows, head))
    assert result.counts == {"create": 3, "update": 0, "unchanged": 0, "error": 0}
    assert result.ignored_columns == ["Admission Number"]
    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    saved = pupils_by_upn(as_school, tenant.school)
    amara = saved[upn(1)]
    assert (amara.last_name, amara.first_name, amara.preferred_name) == ("Ahmed", "Amara", "Mara")
    assert (amara.gender, amara.nc_year, amara.ethnicity) == ("F", 5, "AIND")
    assert (amara.fsm, amara.pupil_premium, amara.eal, amara.looked_after) == (True, True, False, False)
    assert (amara.sen_status, amara.primary_need, amara.secondary_need) == ("K", "SLCN", "ASD")
    assert amara.school_id == tenant.school.pk and amara.is_active
    assert saved[upn(2)].looked_after and saved[upn(2)].sen_status == "E"
    leaver = saved[upn(3)]
    assert (leaver.left_on, leaver.is_active, leaver.eal) == (date(2024, 7, 20), False, True)


def test_xlsx_import_reads_date_number_and_boolean_cells(tenant, as_school):
    today = date.today()
    start = today.year if today.month >= 9 else today.year - 1
    born = datetime(start - 7 - 5, 12, 1)
    head = [*HEAD, "FSM"]
    data = xlsx_bytes(
        [
            [upn(1), "  Nowak ", "Kacper", born, "M", 7, "k", "spld", True],
            [upn(2), "Zoë", "Ella", dob(0), "F", "R", "N", None, "N"],
            [None, None, None, None, None, None, None, None, None],  # a blank row is skipped
            [upn(3), "Young", "Leo", born.date(), "M", "Year 7", "N", "", False],
        ],
        head,
    )
    result, summary = run_import(as_school, tenant.school, data, "export.xlsx")
    assert [r.number for r in result.rows] == [2, 3, 5]
    assert summary.created == 3
    saved = pupils_by_upn(as_school, tenant.school)
    kacper = saved[upn(1)]
    assert (kacper.last_name, kacper.date_of_birth, kacper.nc_year) == ("Nowak", born.date(), 7)
    assert (kacper.sen_status, kacper.primary_need, kacper.fsm) == ("K", "SPLD", True)
    assert (saved[upn(2)].last_name, saved[upn(2)].nc_year) == ("Zoë", 0)
    assert saved[upn(3)].nc_year == 7


def test_utf8_with_bom_and_crlf(tenant, as_school):
    rows = good_rows(1)
    rows[0][1] = "Zoë"
    data = b"\xef\xbb\xbf" + csv_bytes(rows, eol="\r\n")
    run_import(as_school, tenant.school, data)
    assert pupils_by_upn(as_school, tenant.school)[upn(1)].last_name == "Zoë"


def test_windows_1252_text(tenant, as_school):
    rows = good_rows(2)
    rows[0][1], rows[1][1] = "O’Brien", "Zoë"
    data = csv_bytes(rows, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test really is Windows-1252
    run_import(as_school, tenant.school, data)
    saved = pupils_by_upn(as_school, tenant.school)
    assert (saved[upn(1)].last_name, saved[upn(2)].last_name) == ("O’Brien", "Zoë")


def test_padded_cells_day_first_dates_lower_case_codes_and_mis_headings(tenant, as_school):
    head = ["Pupil UPN ", " Surname", "Forename", "Date of Birth", "Sex", "Year Group", "SEN Provision"]
    head += ["Type of Need", "Ethnicity", "FSM Eligible", "PP", "CLA"]
    rows = [
        [
            f"  {upn(1).lower()} ",
            " Evans ",
            "  Rhys",
            " 03/04/2015 ",
            " m ",
            " Y5 ",
            " k ",
            " asd ",
            " white - british ",
            " yes ",
            " t ",
            " 1 ",
        ],
        [
            upn(2),
            "Green",
            "Grace",
            "3-4-2015",
            "female",
            "Year 5",
            "sen support",
            "semh",
            "wbri",
            "no",
            "f",
            "0",
        ],
        [
            upn(3),
            "Hughes",
            "Harvey",
            "04/03/15",
            "M",
            "r",
            "e",
            "Speech, language and communication needs",
            "",
            "",
            "",
            "",
        ],
        [upn(4), "Iqbal", "Isla", "2021-09-30", "F", "n1", "", "", "", "", "", ""],
    ]
    run_import(as_school, tenant.school, csv_bytes(rows, head))
    saved = pupils_by_upn(as_school, tenant.school)
    rhys, grace, harvey, isla = (saved[upn(i)] for i in range(1, 5))
    assert (rhys.last_name, rhys.first_name, rhys.date_of_birth) == ("Evans", "Rhys", date(2015, 4, 3))
    assert (rhys.gender, rhys.nc_year, rhys.sen_status, rhys.primary_need) == ("M", 5, "K", "ASD")
    assert (rhys.ethnicity, rhys.fsm, rhys.pupil_premium, rhys.looked_after) == ("WBRI", True, True, True)
    assert (grace.date_of_birth, grace.gender, grace.sen_status, grace.primary_need) == (
        date(2015, 4, 3),
        "F",
        "K",
        "SEMH",
    )
    assert (grace.fsm, grace.pupil_premium, grace.looked_after) == (False, False, False)
    assert (harvey.date_of_birth, harvey.nc_year, harvey.sen_status, harvey.primary_need) == (
        date(2015, 3, 4),
        0,
        "E",
        "SLCN",
    )
    assert (isla.date_of_birth, isla.nc_year, isla.sen_status) == (date(2021, 9, 30), -2, "N")


def test_implausible_age_for_the_year_is_a_warning_not_an_error(tenant, as_school):
    rows = good_rows(1)
    rows[0][3] = dob(10)  # born for year 10, listed in year 5
    result = preview(as_school, tenant.school, csv_bytes(rows))
    assert result.is_valid
    [warning] = result.rows[0].warnings
    assert warning.startswith("Row 2: date of birth") and "Year 10" in warning


# --- Re-importing ------------------------------------------------------------------------------


# Changes are written one UPDATE per distinct value, or with bulk_update past FEW_VALUES: both ways.
write_paths = pytest.mark.parametrize("few_values", [imports.FEW_VALUES, 0], ids=["per-value", "bulk"])


@write_paths
def test_reimport_updates_by_upn_and_reports_changed_fields(tenant, as_school, monkeypatch, few_values):
    monkeypatch.setattr(imports, "FEW_VALUES", few_values)
    head = [*HEAD, "FSM"]
    first = [[*r, "N"] for r in good_rows(3)]
    run_import(as_school, tenant.school, csv_bytes(first, head))
    before = counts(as_school, tenant.school)
    again = [list(r) for r in first]
    again[0][5], again[0][8] = "6", "Y"  # year and FSM change
    again[1][6], again[1][7] = "K", "MLD"  # joins the SEN register
    result, summary = run_import(as_school, tenant.school, csv_bytes(again, head))
    assert result.counts == {"create": 0, "update": 2, "unchanged": 1, "error": 0}
    assert result.rows[0].changed == ["nc_year", "fsm"]
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
    assert summary.changes == {upn(1): ["nc_year", "fsm"], upn(2): ["sen_status", "primary_need"]}
    saved = pupils_by_upn(as_school, tenant.school)
    assert (saved[upn(1)].nc_year, saved[upn(1)].fsm) == (6, True)
    assert (saved[upn(2)].sen_status, saved[upn(2)].primary_need) == ("K", "MLD")
    # No new pupils; one register entry (the SEN change); two update rows plus the import's own.
    after = counts(as_school, tenant.school)
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (0, 1, 3)


def test_reimport_leaves_columns_the_file_lacks_alone(tenant, as_school):
    run_import(as_school, tenant.school, csv_bytes([[*good_rows(1)[0][:6], "K", "ASD"]]))
    slim = ["UPN", "Surname", "Forename", "DOB", "Year"]
    _result, summary = run_import(as_school, tenant.school, csv_bytes([[*good_rows(1)[0][:4], "5"]], slim))
    assert summary.unchanged == 1
    pupil = pupils_by_upn(as_school, tenant.school)[upn(1)]
    assert (pupil.sen_status, pupil.primary_need, pupil.gender) == ("K", "ASD", "F")


@write_paths
def test_leaving_the_sen_register_clears_the_need(tenant, as_school, monkeypatch, few_values):
    monkeypatch.setattr(imports, "FEW_VALUES", few_values)
    run_import(as_school, tenant.school, csv_bytes([[*good_rows(1)[0][:6], "K", "ASD"]]))
    head = ["UPN", "Surname", "Forename", "DOB", "Year", "SEN Status"]
    _, summary = run_import(as_school, tenant.school, csv_bytes([[*good_rows(1)[0][:4], "5", "N"]], head))
    assert summary.changes == {upn(1): ["sen_status", "primary_need"]}
    pupil = pupils_by_upn(as_school, tenant.school)[upn(1)]
    assert (pupil.sen_status, pupil.primary_need) == ("N", "")


def test_sen_history_rows_are_appended(tenant, as_school):
    rows = good_rows(2)
    rows[0][6:8] = ["E", "ASD"]
    run_import(as_school, tenant.school, csv_bytes(rows))
    rows[1][6:8] = ["K", "NSA"]
    run_import(as_school, tenant.school, csv_bytes(rows))
    with as_school(tenant.school):
        history = {
            (h.pupil.upn, h.status, h.primary_need, h.source, h.start_date)
            for h in SenStatusChange.objects.select_related("pupil").filter(pupil__upn__in=[upn(1), upn(2)])
        }
    today = date.today()
    assert history == {
        (upn(1), "E", "ASD", "import", today),
        (upn(2), "N", "", "import", today),
        (upn(2), "K", "NSA", "import", today),
    }


def test_audit_rows_name_the_fields_and_the_source_never_the_values(tenant, as_school):
    rows = good_rows(1)
    run_import(as_school, tenant.school, csv_bytes(rows))
    rows[0][1] = "Renamed"
    run_import(as_school, tenant.school, csv_bytes(rows))
    pupil = pupils_by_upn(as_school, tenant.school)[upn(1)]
    with as_school(tenant.school):
        rows_for_pupil = list(
            AuditEvent.objects.filter(object_type="pupils.pupil", object_id=str(pupil.pk)).order_by("id")
        )
        imports_logged = list(AuditEvent.objects.filter(object_type="pupils.import").order_by("id"))
    assert [(e.action, e.school_id) for e in rows_for_pupil] == [
        ("create", tenant.school.pk),
        ("update", tenant.school.pk),
    ]
    assert rows_for_pupil[0].detail["source"] == "import"
    assert "last_name" in rows_for_pupil[0].detail["fields"]
    assert rows_for_pupil[1].detail == {"fields": ["last_name"], "source": "import"}
    assert "Renamed" not in str([e.detail for e in rows_for_pupil])
    assert [e.detail["created"] for e in imports_logged] == [1, 0]


# --- Bad input: a clear message, and nothing changed --------------------------------------------


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))  # 8 MB → about 8 KB
    return out.getvalue()


def _bad(rows_change) -> bytes:
    rows = good_rows(3)
    rows_change(rows)
    return csv_bytes(rows)


BAD_INPUTS = {
    "undecodable bytes": (
        lambda: csv_bytes(good_rows(1)) + b"\x81\x8d\x8f\x90,\x9d\r\n",
        "pupils.csv",
        "neither UTF-8 nor Windows-1252",
    ),
    "missing UPN": (
        lambda: _bad(lambda r: r[1].__setitem__(0, "")),
        "pupils.csv",
        "Row 3: the UPN is missing",
    ),
    "no UPN column": (
        lambda: csv_bytes([r[1:] for r in good_rows(2)], HEAD[1:]),
        "pupils.csv",
        "no column for the UPN",
    ),
    "duplicate UPN": (
        lambda: _bad(lambda r: r[2].__setitem__(0, upn(1))),
        "pupils.csv",
        f"Row 4: UPN {upn(1)} appears again (first on row 2)",
    ),
    "wrong check letter": (
        lambda: _bad(lambda r: r[0].__setitem__(0, ("B" if upn(1)[0] != "B" else "C") + upn(1)[1:])),
        "pupils.csv",
        "check letter is wrong",
    ),
    "impossible date": (
        lambda: _bad(lambda r: r[1].__setitem__(3, "31/02/2015")),
        "pupils.csv",
        "Row 3: date of birth “31/02/2015” is not a real date",
    ),
    "not a date": (lambda: _bad(lambda r: r[1].__setitem__(3, "next week")), "pupils.csv", "is not a date"),
    "date of birth in the future": (
        lambda: _bad(lambda r: r[1].__setitem__(3, f"01/01/{date.today().year + 1}")),
        "pupils.csv",
        "is in the future",
    ),
    "unknown need": (
        lambda: _bad(lambda r: r[1].__setitem__(slice(6, 8), ["K", "XYZ"])),
        "pupils.csv",
        "Row 3: primary need “XYZ” is not a known code",
    ),
    "unknown SEN status": (
        lambda: _bad(lambda r: r[1].__setitem__(6, "S")),
        "pupils.csv",
        "SEN status “S” is not a known code",
    ),
    "unknown gender": (lambda: _bad(lambda r: r[1].__setitem__(4, "Q")), "pupils.csv", "gender “Q”"),
    "need with SEN status N": (
        lambda: _bad(lambda r: r[1].__setitem__(7, "ASD")),
        "pupils.csv",
        "needs are recorded only for pupils on SEN support",
    ),
    "SEN support without a need": (
        lambda: _bad(lambda r: r[1].__setitem__(6, "K")),
        "pupils.csv",
        "needs a primary need",
    ),
    "NC year out of range": (
        lambda: _bad(lambda r: r[1].__setitem__(5, "15")),
        "pupils.csv",
        "NC year “15” is out of range",
    ),
    "not a year group": (
        lambda: _bad(lambda r: r[1].__setitem__(5, "Y")),
        "pupils.csv",
        "is not a year group",
    ),
    "yes-no column that is neither": (
        lambda: csv_bytes([[*good_rows(1)[0], "maybe"]], [*HEAD, "FSM"]),
        "pupils.csv",
        "FSM “maybe” is not Y or N",
    ),
    "file over the size limit": (
        lambda: csv_bytes(good_rows(1)) + b" " * (import_files.max_upload_bytes()),
        "pupils.csv",
        "The file is larger than 5 MB",
    ),
    "empty file": (lambda: b"", "pupils.csv", "The file is empty."),
    "headings only": (lambda: csv_bytes([]), "pupils.csv", "no pupils"),
    "not-a-zip .xlsx": (lambda: csv_bytes(good_rows(2)), "pupils.xlsx", "not an Excel .xlsx workbook"),
    "zip that is not a workbook": (
        not_a_workbook,
        "pupils.xlsx",
        "damaged or not a real Excel .xlsx file",
    ),
    "zip bomb .xlsx": (_zip_bomb, "pupils.xlsx", "zip bomb"),
    "XML bomb in sharedStrings.xml": (
        lambda: replace_member(xlsx_with_strings(), "xl/sharedStrings.xml", BILLION_LAUGHS),
        "pupils.xlsx",
        "XML bomb",
    ),
    "XML bomb in sheet1.xml": (
        lambda: replace_member(xlsx_with_strings(), "xl/worksheets/sheet1.xml", sheet_bomb()),
        "pupils.xlsx",
        "XML bomb",
    ),
    "old .xls workbook": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "pupils.xls", ".xls"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_with_a_clear_message_and_nothing_changes(tenant, as_school, case):
    make, filename, message = BAD_INPUTS[case]
    data = make()
    before = counts(as_school, tenant.school)
    result = preview(as_school, tenant.school, data, filename)
    assert not result.is_valid
    assert any(message in p for p in result.problems), result.problems
    with as_school(tenant.school), pytest.raises(ImportRejected):
        commit_import(request=None, school=tenant.school, preview=result)
    assert counts(as_school, tenant.school) == before


def test_xml_bomb_is_refused_by_defusedxml_too(tenant, as_school, monkeypatch):
    # Without our own document-type check, openpyxl's defusedxml parser still refuses it.
    monkeypatch.setattr(import_files, "_has_dtd", lambda archive, member: False)
    for member, bomb in (
        ("xl/sharedStrings.xml", BILLION_LAUGHS),
        ("xl/worksheets/sheet1.xml", sheet_bomb()),
    ):
        data = replace_member(xlsx_with_strings(), member, bomb)
        with pytest.raises(ImportRejected) as refused:
            read_table(data, "pupils.xlsx")
        assert "XML bomb" in refused.value.messages[0], member


def test_zip_bomb_by_total_size_is_refused(monkeypatch):
    monkeypatch.setattr(import_files, "XLSX_MAX_UNCOMPRESSED", 1024)
    with pytest.raises(ImportRejected, match="zip bomb"):
        read_table(xlsx_with_strings(), "pupils.xlsx")


def test_reading_a_workbook_stops_at_its_time_budget(monkeypatch):
    monkeypatch.setattr(import_files, "XLSX_READ_SECONDS", -1)
    rows = [[upn(i), "Smith", "Ann", dob(5), "F", 5, "N", ""] for i in range(1, 600)]
    with pytest.raises(ImportRejected, match="too large to read in reasonable time"):
        read_table(xlsx_bytes(rows), "pupils.xlsx")


def test_a_workbook_with_shared_strings_reads():
    # The same workbook the XML-bomb cases poison, unpoisoned: it passes every check.
    [row] = read_table(xlsx_with_strings(), "pupils.xlsx")
    assert (row["UPN"], row["Legal Surname"], row["NC Year"], row["_row"]) == (upn(1), "Smith", "5", 2)


def test_a_failure_while_saving_leaves_nothing_behind(tenant, as_school, monkeypatch):
    result = preview(as_school, tenant.school, csv_bytes(good_rows(3)))
    before = counts(as_school, tenant.school)

    def fail(*args, **kwargs):
        raise IntegrityError("simulated failure after the pupils were written")

    monkeypatch.setattr(SenStatusChange.objects, "bulk_create", fail)
    with as_school(tenant.school), pytest.raises(ImportRejected, match="nothing was saved"):
        commit_import(request=None, school=tenant.school, preview=result)
    assert counts(as_school, tenant.school) == before


def test_commit_plans_again_against_the_register_as_it_is_now(tenant, as_school):
    # A pupil added after the preview is updated, not duplicated.
    result = preview(as_school, tenant.school, csv_bytes(good_rows(1)))
    assert result.counts["create"] == 1
    with as_school(tenant.school):
        Pupil.objects.create(
            school=tenant.school,
            upn=upn(1),
            first_name="X",
            last_name="Y",
            date_of_birth=date(2015, 1, 1),
            nc_year=5,
        )
        summary = commit_import(request=None, school=tenant.school, preview=result)
    assert (summary.created, summary.updated) == (0, 1)


def test_a_scope_of_another_school_cannot_import(tenant, as_school):
    with as_school(tenant.sibling), pytest.raises(ImportRejected):
        preview_file(school=tenant.school, data=csv_bytes(good_rows(1)), filename="p.csv")


def test_a_upn_held_by_another_lea_school_makes_a_new_pupil_here(tenant, other, as_school):
    theirs = other.pupils[0]
    with as_school(other.school):
        snapshot = list(Pupil.objects.order_by("pk").values())
    row = [theirs.upn, "Newcomer", "Nia", dob(5), "F", "5", "N", ""]
    result, summary = run_import(as_school, tenant.school, csv_bytes([row]))
    assert result.rows[0].action == "create" and summary.created == 1
    mine = pupils_by_upn(as_school, tenant.school)[theirs.upn]
    assert (mine.school_id, mine.last_name) == (tenant.school.pk, "Newcomer")
    with as_school(other.school):
        assert list(Pupil.objects.order_by("pk").values()) == snapshot


# --- The management command --------------------------------------------------------------------


def test_command_previews_a_valid_file_and_exits_zero(tenant, as_school, tmp_path, capsys):
    path = tmp_path / "pupils.csv"
    path.write_bytes(csv_bytes(good_rows(2)))
    before = counts(as_school, tenant.school)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_pupils", "--school", tenant.school.urn, str(path), stdout=out, stderr=err)
    assert "2 to add" in out.getvalue() and "Nothing was saved" in out.getvalue()
    assert counts(as_school, tenant.school) == before


def test_command_commit_saves_and_prints_the_summary(tenant, as_school, tmp_path):
    path = tmp_path / "pupils.xlsx"
    path.write_bytes(xlsx_bytes([[upn(1), "Smith", "Ann", dob(5), "F", 5, "N", ""]]))
    out = io.StringIO()
    call_command("import_pupils", "--school", tenant.school.urn, str(path), "--commit", stdout=out)
    assert "1 pupil added, 0 updated, 0 unchanged" in out.getvalue()
    assert upn(1) in pupils_by_upn(as_school, tenant.school)
    # With no request, the audit rows still name the school.
    with as_school(tenant.school):
        assert AuditEvent.objects.filter(object_type="pupils.pupil", action="create").count() == 1


def test_command_lists_every_problem_and_exits_non_zero(tenant, as_school, tmp_path):
    rows = good_rows(3)
    rows[0][3], rows[2][6] = "31/02/2015", "Z"
    path = tmp_path / "pupils.csv"
    path.write_bytes(csv_bytes(rows))
    before = counts(as_school, tenant.school)
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "import_pupils",
            "--school",
            tenant.school.urn,
            str(path),
            "--commit",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert failed.value.returncode != 0
    assert "Row 2: date of birth" in err.getvalue() and "Row 4: SEN status" in err.getvalue()
    assert counts(as_school, tenant.school) == before


def test_command_refuses_an_unknown_urn_or_missing_file(tenant, tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_bytes(csv_bytes(good_rows(1)))
    with pytest.raises(CommandError, match="No school has URN"):
        call_command("import_pupils", "--school", "000000", str(path))
    with pytest.raises(CommandError, match="No file"):
        call_command("import_pupils", "--school", tenant.school.urn, str(tmp_path / "missing.csv"))


# --- The API -----------------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "pupils.csv", **extra):
    return client.post("/api/v1/pupils/import/", {"file": _named(data, name), **extra})


def _named(data: bytes, name: str):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_api_preview_is_200_and_saves_nothing(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    before = counts(as_school, tenant.school)
    response = upload(client, csv_bytes(good_rows(2)))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] is True and body["counts"]["create"] == 2
    assert [r["row"] for r in body["rows"]] == [2, 3]
    assert counts(as_school, tenant.school) == before


def test_api_file_with_problems_is_400_with_every_problem(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    rows = good_rows(2)
    rows[1][5] = "20"
    before = counts(as_school, tenant.school)
    response = upload(client, csv_bytes(rows), commit="true")
    assert response.status_code == 400
    assert response.json()["problems"] == ["Row 3: NC year “20” is out of range (N1, N2, R, or 1 to 14)"]
    assert counts(as_school, tenant.school) == before


def test_api_commit_is_201_with_the_summary(client, tenant, as_school):
    sign_in(client, tenant.users["headteacher"])
    response = upload(
        client, xlsx_bytes([[upn(1), "Smith", "Ann", dob(5), "F", 5, "N", ""]]), "p.xlsx", commit="true"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "changes": {}}
    with as_school(tenant.school):
        event = AuditEvent.objects.get(object_type="pupils.pupil", action="create")
    assert (event.user_id, event.role) == (tenant.users["headteacher"].pk, "headteacher")


@pytest.mark.parametrize("role", ["la_officer", "practitioner", "partnership_lead"])
def test_api_import_is_refused_to_other_roles(client, tenant, as_school, role):
    sign_in(client, tenant.users[role])
    before = counts(as_school, tenant.school)
    assert upload(client, csv_bytes(good_rows(1)), commit="true").status_code == 403
    after = counts(as_school, tenant.school)
    assert after[:2] == before[:2]  # no pupil, no register entry; the refusal itself may be logged


def test_api_import_of_another_schools_upn_reveals_nothing(client, tenant, other, as_school):
    theirs = other.pupils[0]
    sign_in(client, tenant.users["senco"])
    row = [theirs.upn, "Newcomer", "Nia", dob(5), "F", "5", "N", ""]
    preview_body = upload(client, csv_bytes([row])).content.decode()
    assert '"action":"create"' in preview_body
    committed = upload(client, csv_bytes([row]), commit="true")
    assert committed.status_code == 201
    for text in (preview_body, committed.content.decode()):
        assert theirs.last_name not in text and theirs.first_name not in text and other.marker not in text
    with as_school(other.school):
        assert Pupil.objects.get(pk=theirs.pk).last_name == theirs.last_name


def test_api_without_a_file_is_400(client, tenant):
    sign_in(client, tenant.users["senco"])
    assert client.post("/api/v1/pupils/import/", {}).status_code == 400


# --- The browser -------------------------------------------------------------------------------


def browser_upload(client, data: bytes, name: str = "pupils.csv"):
    return client.post("/pupils/import/", {"file": _named(data, name)})


def test_browser_upload_preview_then_commit(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    page = client.get("/pupils/import/")
    assert page.status_code == 200
    assert b'<label for="id_file">' in page.content and b"Legal Surname" in page.content
    rows = good_rows(2)
    rows[0][3] = dob(9)  # a warning, shown but not blocking
    previewed = browser_upload(client, csv_bytes(rows))
    assert previewed.status_code == 200
    html = previewed.content.decode()
    assert "Commit import" in html and "Surname1" in html and "Worth checking" in html
    token = previewed.context["token"]
    before = counts(as_school, tenant.school)
    committed = client.post("/pupils/import/commit/", {"token": token})
    assert committed.status_code == 302 and committed["Location"] == "/pupils/"
    assert counts(as_school, tenant.school)[0] == before[0] + 2
    # The token is spent: committing again finds nothing to save.
    assert client.post("/pupils/import/commit/", {"token": token}).status_code == 400
    assert counts(as_school, tenant.school)[0] == before[0] + 2


def test_browser_preview_lists_problems_with_links_and_no_commit_button(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    rows = good_rows(3)
    rows[1][0] = ""
    before = counts(as_school, tenant.school)
    response = browser_upload(client, csv_bytes(rows))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'href="#row-3"' in html and 'id="row-3"' in html and "the UPN is missing" in html
    assert "Commit import" not in html
    assert counts(as_school, tenant.school) == before


def test_browser_hostile_file_gets_a_message(client, tenant, as_school):
    sign_in(client, tenant.users["headteacher"])
    response = browser_upload(client, _zip_bomb(), "pupils.xlsx")
    assert response.status_code == 400 and "zip bomb" in response.content.decode()


def test_browser_token_belongs_to_the_user_who_uploaded(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    token = browser_upload(client, csv_bytes(good_rows(1))).context["token"]
    client.logout()
    sign_in(client, tenant.users["headteacher"])
    before = counts(as_school, tenant.school)
    response = client.post("/pupils/import/commit/", {"token": token})
    assert response.status_code == 400 and "Upload it again" in response.content.decode()
    assert counts(as_school, tenant.school) == before


@pytest.mark.parametrize("role", ["practitioner", "la_officer", "provision_lead", "platform_admin"])
def test_browser_import_is_refused_to_other_roles(client, tenant, role):
    sign_in(client, tenant.users[role])
    assert client.get("/pupils/import/").status_code == 403
    assert browser_upload(client, csv_bytes(good_rows(1))).status_code == 403
    assert client.post("/pupils/import/commit/", {"token": "x" * 32}).status_code == 403


def test_browser_commit_needs_post(client, tenant):
    sign_in(client, tenant.users["senco"])
    assert client.get("/pupils/import/commit/").status_code == 405


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(client, tenant, settings):
    sign_in(client, tenant.users["senco"])
    settings.MAX_REQUEST_BYTES = 1000
    body = b"x" * 5000
    response = client.generic("POST", "/api/v1/pupils/import/", body, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    page = client.generic("POST", "/pupils/import/", body, content_type="application/octet-stream")
    assert page.status_code == 413


def test_previews_are_audited_as_reads(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    upload = SimpleUploadedFile("pupils.csv", csv_bytes(good_rows(2)), content_type="text/csv")
    client.post("/api/v1/pupils/import/", {"file": upload, "commit": "false"})
    with as_school(tenant.school):
        [row] = AuditEvent.objects.filter(object_type="pupils.import", action="list")
    assert row.detail["previewed"]["create"] == 2
    assert row.user_id == tenant.users["senco"].pk


def test_a_file_of_thousands_of_bad_rows_gets_a_bounded_answer(client, tenant):
    sign_in(client, tenant.users["senco"])
    rows = "\r\n".join(f"A{i:012d},Surname,Forename,01/01/2015,5" for i in range(3000))
    data = ("UPN,Legal Surname,Legal Forename,DOB,NC Year\r\n" + rows).encode()
    upload = SimpleUploadedFile("pupils.csv", data, content_type="text/csv")
    response = client.post("/api/v1/pupils/import/", {"file": upload, "commit": "false"})
    assert response.status_code == 400
    body = response.json()
    assert body["rows_total"] == 3000 and len(body["rows"]) == 1000
    assert body["problems_total"] >= 3000 and len(body["problems"]) == 1000
    page = client.post("/pupils/import/", {"file": SimpleUploadedFile("pupils.csv", data)})
    assert page.status_code == 400
    assert page.content.count(b"<tr") <= 1002


def test_rows_naming_another_school_are_refused(client, tenant):
    sign_in(client, tenant.users["senco"])
    header = "UPN,Legal Surname,Legal Forename,DOB,NC Year,URN\r\n"
    own = f"B801200005001,Smith,Ann,01/01/2016,4,{tenant.school.urn}\r\n"
    foreign = f"{make_upn('909', '0002', 2024, 7)},Jones,Bob,01/01/2016,4,{tenant.sibling.urn}\r\n"
    upload = SimpleUploadedFile("pupils.csv", (header + own + foreign).encode(), content_type="text/csv")
    body = client.post("/api/v1/pupils/import/", {"file": upload, "commit": "true"}).json()
    assert body["valid"] is False
    assert any(f"URN {tenant.sibling.urn} is not this school" in p for p in body["problems"])
    assert not any("Row 2" in p for p in body["problems"])  # the school's own row is fine


def test_command_names_the_member_of_staff_in_the_audit_log(tenant, as_school, tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_bytes(csv_bytes(good_rows(2)))
    senco = tenant.users["senco"]
    call_command(
        "import_pupils",
        "--school",
        tenant.school.urn,
        str(path),
        "--commit",
        "--by",
        senco.username,
        stdout=io.StringIO(),
    )
    with as_school(tenant.school):
        creates = AuditEvent.objects.filter(action="create", object_type="pupils.pupil")
        assert creates.count() == 2 and {e.user_id for e in creates} == {senco.pk}
    with pytest.raises(CommandError, match="No active user"):
        call_command("import_pupils", "--school", tenant.school.urn, str(path), "--by", "nobody-at-all")
