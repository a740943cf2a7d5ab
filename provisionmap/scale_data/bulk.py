"""Writing many rows fast, through the same row-level security as every other write.

Rows are gathered in memory column by column (`Rows`) and written with one
`INSERT … SELECT … FROM unnest(array, array, …)` per chunk, the arrays sent in binary.

Why not COPY: PostgreSQL refuses `COPY FROM` on a table under row-level security, and every
tenant table here has it forced (schools/rls.py), so the fastest path the policies still
check is one INSERT per chunk whose rows arrive as one array per column.

Ids come from the table's own sequence before the rows are written, so a child can name a
parent written in the same transaction; the foreign keys are checked at commit (Django
declares them DEFERRABLE INITIALLY DEFERRED), so the order tables are written in within one
transaction does not matter.

The statements go through a plain psycopg cursor on Django's connection (the same session
and transaction, so the tenant settings apply): Django's debug cursor would keep each
statement's megabytes of parameters in `connection.queries`.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import connection, models
from django.utils import timezone

# Rows per INSERT: big enough that statement overhead vanishes, small enough to keep each
# statement's arrays a few megabytes.
CHUNK = 20_000
# Ids taken from a sequence at a time.
ID_BLOCK = 5_000


def _cursor() -> psycopg.Cursor:
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


class Rows:
    """Rows of one table, gathered column by column and written by `write()`.

    `columns` are attribute names (`school_id`, not `school`). With `ids=True` each `add()`
    returns the id the row will have. Columns left out take the model's default (an empty
    string for text, `now` for `auto_now`/`auto_now_add` stamps, NULL where allowed).
    """

    def __init__(self, model: type[models.Model], *columns: str, ids: bool = False) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise ValueError(f"{model._meta.label} has no column {', '.join(unknown)}")
        self.model = model
        self.with_ids = ids
        self.fields = ([model._meta.pk] if ids else []) + [fields[c] for c in columns]
        self.values: list[list[Any]] = [[] for _ in self.fields]
        self._id_pool: list[int] = []
        self.written = 0

    def __len__(self) -> int:
        return len(self.values[0])

    def add(self, *values: Any) -> int | None:
        if self.with_ids:
            if not self._id_pool:
                self._id_pool = _next_ids(self.model, ID_BLOCK)
                self._id_pool.reverse()
            new_id = self._id_pool.pop()
            values = (new_id, *values)
        if len(values) != len(self.fields):
            raise ValueError(f"{self.model._meta.label}: {len(values)} values for {len(self.fields)} columns")
        for column, value in zip(self.values, values, strict=True):
            column.append(value)
        return new_id if self.with_ids else None

    def add_object(self, obj: models.Model) -> None:
        """Add an unsaved model instance, giving it the id its row will have."""
        new_id = self.add(*(getattr(obj, f.attname) for f in self.fields[self.with_ids :]))
        if self.with_ids:
            obj.pk = new_id

    def write(self) -> int:
        """Insert what was added since the last write; returns how many rows."""
        count = len(self)
        if not count:
            return 0
        sql, fills = self._statement()
        cursor = _cursor()
        for start in range(0, count, CHUNK):
            cursor.execute(sql, fills + [column[start : start + CHUNK] for column in self.values])
        self.values = [[] for _ in self.fields]
        self.written += count
        return count

    def _statement(self) -> tuple[str, list[Any]]:
        given = {f.attname for f in self.fields}
        now = timezone.now()
        fills: list[tuple[models.Field, Any]] = []
        for field in self.model._meta.concrete_fields:
            if field.attname in given or field.primary_key:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.has_default() or not field.null:
                value = field.get_default()
            else:
                continue  # NULL: the column's own default
            if value is None and not field.null:
                raise ValueError(f"{self.model._meta.label}.{field.attname} needs a value")
            fills.append((field, field.get_db_prep_save(value, connection)))
        quote = connection.ops.quote_name
        names = [quote(f.column) for f in self.fields] + [quote(f.column) for f, _ in fills]
        arrays = ", ".join(f"%b::{_db_type(f)}[]" for f in self.fields)
        constants = "".join(f", %b::{_db_type(f)}" for f, _ in fills)
        sql = (
            f"INSERT INTO {quote(self.model._meta.db_table)} ({', '.join(names)}) "
            f"SELECT u.*{constants} FROM unnest({arrays}) AS u"
        )
        # The constants stand before the arrays in the statement, so before them in the params.
        return sql, [value for _, value in fills]


def settable_columns(model: type[models.Model]) -> list[str]:
    """Every column of the model but its id and its automatic time stamps."""
    return [
        f.attname
        for f in model._meta.concrete_fields
        if not f.primary_key and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)
    ]


def _db_type(field: models.Field) -> str:
    return field.db_type(connection)


_sequences: dict[str, str] = {}


def _next_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    cursor = _cursor()
    if table not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
        _sequences[table] = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [_sequences[table], count])
    return [row[0] for row in cursor.fetchall()]
