"""Row-level security: the database wall behind the ORM scoping of schools/tenancy.py.

Run after every migrate (post_migrate), as the owning login, and idempotent:
- make sure the app role exists, cannot log in, is no superuser and cannot bypass RLS,
  and that the owning login may switch to it;
- grant it plain data rights on every table (no ownership, no DDL), and only INSERT and
  SELECT on the audit log;
- on every TenantModel table, enable and FORCE row security and (re)create policies that
  compare the tenant column with the transaction-local settings `pm.read_<key>` and
  `pm.write_<key>`. A missing setting reads as an empty set, so the policy is false.
  A row shared with a second party (`shared_with`) is read and changed by it too; a row
  about a pupil (`pupil_path`) is also read under a pupil grant (`pm.read_pupil`), and the
  pupil's own row under a name grant (`pm.name_pupil`). Grants never open a row to change;
  a second party changes a shared row but never adds or removes one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

from schools.tenancy import tenant_models

IDS_FUNCTION = """
CREATE OR REPLACE FUNCTION pm_ids(setting text) RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting(setting, true), ''), '{}')::bigint[]
$$;
"""


def _q(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def ensure_app_role(connection) -> None:
    role = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(
                f"CREATE ROLE {_q(connection, role)} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOBYPASSRLS NOREPLICATION"
            )
        cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [role])
        if not cursor.fetchone()[0]:
            cursor.execute(f"GRANT {_q(connection, role)} TO CURRENT_USER")


def _pupil_sql(connection, model, path: str) -> str:
    """SQL true of a row of `model` whose pupil (reached along `path`) holds a grant."""
    head, _, rest = path.partition("__")
    meta = model._meta
    if head == "pk":
        return f"{_q(connection, meta.pk.column)} = ANY (pm_ids('pm.read_pupil'))"
    field = meta.get_field(head)
    if not rest:
        return f"{_q(connection, field.column)} = ANY (pm_ids('pm.read_pupil'))"
    target = field.related_model
    inner = _pupil_sql(connection, target, rest)
    table = _q(connection, target._meta.db_table)
    if field.concrete:  # a foreign key on this row
        return (
            f"{_q(connection, field.column)} IN (SELECT {_q(connection, target._meta.pk.column)} "
            f"FROM {table} WHERE {inner})"
        )
    remote = _q(connection, field.field.column)  # a reverse relation: rows pointing here
    return f"{_q(connection, meta.pk.column)} IN (SELECT {remote} FROM {table} WHERE {inner})"


def read_write_sql(connection, model) -> tuple[str, str, str]:
    """The read, change and add conditions of a tenant table's policies: a second party
    (`shared_with`) reads and changes a shared row, but only its owner adds or removes one."""
    key = model.tenant_key
    column = _q(connection, model._meta.get_field(key).column)
    read = [f"{column} = ANY (pm_ids('pm.read_{key}'))"]
    write = [f"{column} = ANY (pm_ids('pm.write_{key}'))"]
    own = write[0]
    for name, shared in model.shared_with.items():
        shared_column = _q(connection, model._meta.get_field(name).column)
        read.append(f"{shared_column} = ANY (pm_ids('pm.read_{shared}'))")
        write.append(f"{shared_column} = ANY (pm_ids('pm.write_{shared}'))")
    if model.pupil_path:
        read.append(_pupil_sql(connection, model, model.pupil_path))
    if model.pupil_row:
        read.append(f"{_q(connection, model._meta.pk.column)} = ANY (pm_ids('pm.name_pupil'))")
    if model.shared_can_add:
        own = " OR ".join(f"({w})" for w in write)
    return " OR ".join(f"({r})" for r in read), " OR ".join(f"({w})" for w in write), own


def sync_row_level_security(using: str = "default") -> None:
    connection = connections[using]
    role = _q(connection, settings.DATABASE_APP_ROLE)
    ensure_app_role(connection)
    with connection.cursor() as cursor:
        cursor.execute(IDS_FUNCTION)
        cursor.execute("SELECT current_schema()")
        schema = _q(connection, cursor.fetchone()[0])
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION pm_ids(text) TO {role}")
        # The migration bookkeeping table is the owner's alone.
        cursor.execute(f"REVOKE ALL ON TABLE django_migrations FROM {role}")
        for model in tenant_models():
            table = _q(connection, model._meta.db_table)
            column = _q(connection, model._meta.get_field(model.tenant_key).column)
            read, write, own = read_write_sql(connection, model)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            for name in ("pm_read", "pm_read_la", "pm_insert", "pm_update", "pm_delete"):
                cursor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
            cursor.execute(f"CREATE POLICY pm_read ON {table} FOR SELECT USING ({read})")
            if getattr(model, "append_only", False):
                # Added to, never changed or removed by the app.
                # A row may name no school (a refused attempt by an LA role) or a school the
                # membership works in or over; never a school it could not see.
                audit_ok = f"{column} IS NULL OR {column} = ANY (pm_ids('pm.audit_school'))"
                cursor.execute(f"CREATE POLICY pm_insert ON {table} FOR INSERT WITH CHECK ({audit_ok})")
                # Rows that name no school (LA roles' refused attempts) are the LA's to read.
                cursor.execute(
                    f"CREATE POLICY pm_read_la ON {table} FOR SELECT USING ({column} IS NULL AND "
                    "local_authority_id = ANY (pm_ids('pm.write_local_authority')))"
                )
                cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {table} FROM {role}")
                continue
            cursor.execute(f"CREATE POLICY pm_insert ON {table} FOR INSERT WITH CHECK ({own})")
            cursor.execute(
                f"CREATE POLICY pm_update ON {table} FOR UPDATE USING ({write}) WITH CHECK ({write})"
            )
            cursor.execute(f"CREATE POLICY pm_delete ON {table} FOR DELETE USING ({own})")
        _grant_policies(connection, cursor, role)


def _grant_policies(connection, cursor, role: str) -> None:
    """Pupil grants are read by every request (its scope is built from them, before any
    tenant is chosen), but added or ended only over records the transaction may write, and
    never deleted: a grant that ended stays as the record of who could see whom."""
    from schools.models import PupilGrant

    table = _q(connection, PupilGrant._meta.db_table)
    may_write = (
        "records_school_id = ANY (pm_ids('pm.write_school')) "
        "OR provision_id = ANY (pm_ids('pm.write_provision'))"
    )
    cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for name in ("pm_read", "pm_insert", "pm_update"):
        cursor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
    cursor.execute(f"CREATE POLICY pm_read ON {table} FOR SELECT USING (true)")
    cursor.execute(f"CREATE POLICY pm_insert ON {table} FOR INSERT WITH CHECK ({may_write})")
    cursor.execute(
        f"CREATE POLICY pm_update ON {table} FOR UPDATE USING ({may_write}) WITH CHECK ({may_write})"
    )
    cursor.execute(f"REVOKE DELETE, TRUNCATE ON TABLE {table} FROM {role}")


def on_post_migrate(sender, using: str = "default", **kwargs) -> None:
    # post_migrate fires once per app; the sync covers every table, so once is enough.
    if sender.label == "schools":
        sync_row_level_security(using)
