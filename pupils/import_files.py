"""Reading an uploaded MIS export into rows, safely.

`read_table(data, filename)` turns CSV or XLSX bytes into rows of {column name: text}.
Hostile or broken files (undecodable text, too big, not a zip, a zip bomb, an XML bomb)
end here with `ImportRejected` and a message a SENCO can act on; nothing else is parsed
until the file has passed these checks.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import time
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from django.conf import settings

from pupils.import_columns import ALIASES, norm_heading

logger = logging.getLogger(__name__)


# --- Limits ------------------------------------------------------------------------------
# The upload cap lives in settings (PUPIL_IMPORT_MAX_BYTES); the rest protect the parser.
MAX_ROWS = 20_000  # a large secondary school has about 2,000 pupils on roll
MAX_COLUMNS = 200  # cells to the right of this are never read
XLSX_MAX_MEMBERS = 500  # files inside the zip; Excel writes a dozen or two
XLSX_MAX_UNCOMPRESSED = 10 * 1024 * 1024  # all members together, once unzipped
XLSX_MAX_RATIO = 100  # unzipped / zipped size of one member; real sheets stay far below
XLSX_RATIO_FLOOR = 1024 * 1024  # small members may compress as well as they like
# openpyxl reads about 1.5 MB of sheet XML a second here (5,000 pupils take about 2 s), so
# a file inside the caps above can still take long; past this budget reading stops.
XLSX_READ_SECONDS = 8.0
# Excel never writes a document type declaration; entity bombs and external entities
# need one, so a workbook holding one is refused before any XML parser sees it.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
ROW_KEY = "_row"  # where read_table puts the row number the spreadsheet shows


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
        key = norm_heading(heading)
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
