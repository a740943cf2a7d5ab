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
  about a pupil (`pupil_path`) is also read under a pupil grant for the pair of that pupil
  and the school that recorded the row (`pm.grant_pupil` beside `pm.grant_school`), and the
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


def ids(setting: str) -> str:
    """A setting's ids as the policies read them: a scalar subquery, evaluated once per
    statement (an InitPlan). A bare `pm_ids(…)` is inlined and the setting parsed into an
    array again for every row: over an LA's 60,000 pupils that was 200 ms of a 300 ms
    counting query. (The cast keeps ANY from taking the subquery as a set of rows.)"""
    return f"(SELECT pm_ids('{setting}'))::bigint[]"


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


def _granted(pupil: str, school: str) -> str:
    """True when the scope holds a grant for this (pupil, school) pair: the two settings are
    lists side by side (schools/tenancy.py)."""
    return (
        f"EXISTS (SELECT 1 FROM unnest({ids('pm.grant_pupil')}, {ids('pm.grant_school')}) AS g(p, s) "
        f"WHERE g.p = {pupil} AND g.s = {school})"
    )


def _pupil_sql(connection, model, path: str, school: str) -> str:
    """SQL true of a row of `model` whose pupil (reached along `path`) holds a grant for the
    school that recorded the row (`school`, a qualified column of the policy's own table)."""
    head, _, rest = path.partition("__")
    meta = model._meta
    if head == "pk":
        return _granted(_q(connection, meta.pk.column), school)
    field = meta.get_field(head)
    if not rest:
        return _granted(_q(connection, field.column), school)
    target = field.related_model
    inner = _pupil_sql(connection, target, rest, school)
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
    read = [f"{column} = ANY ({ids(f'pm.read_{key}')})"]
    write = [f"{column} = ANY ({ids(f'pm.write_{key}')})"]
    own = write[0]
    for name, shared in model.shared_with.items():
        shared_column = _q(connection, model._meta.get_field(name).column)
        read.append(f"{shared_column} = ANY ({ids(f'pm.read_{shared}')})")
        write.append(f"{shared_column} = ANY ({ids(f'pm.write_{shared}')})")
    if model.pupil_path:
        # Only the rows the granted school recorded: a grant opens (pupil, school) pairs.
        school = (
            f"{_q(connection, model._meta.db_table)}.{_q(connection, model._meta.get_field('school').column)}"
        )
        read.append(_pupil_sql(connection, model, model.pupil_path, school))
    if model.pupil_row:
        read.append(f"{_q(connection, model._meta.pk.column)} = ANY ({ids('pm.name_pupil')})")
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
                audit_ok = f"{column} IS NULL OR {column} = ANY ({ids('pm.audit_school')})"
                cursor.execute(f"CREATE POLICY pm_insert ON {table} FOR INSERT WITH CHECK ({audit_ok})")
                # Rows that name no school (LA roles' refused attempts) are the LA's to read.
                cursor.execute(
                    f"CREATE POLICY pm_read_la ON {table} FOR SELECT USING ({column} IS NULL AND "
                    f"local_authority_id = ANY ({ids('pm.write_local_authority')}))"
                )
                cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {table} FROM {role}")
                continue
            cursor.execute(f"CREATE POLICY pm_insert ON {table} FOR INSERT WITH CHECK ({own})")
            cursor.execute(
                f"CREATE POLICY pm_update ON {table} FOR UPDATE USING ({write}) WITH CHECK ({write})"
            )
            cursor.execute(f"CREATE POLICY pm_delete ON {table} FOR DELETE USING ({own})")
            if model.shared_with:
                fixed = [model._meta.get_field(model.tenant_key).column]
                fixed += [model._meta.get_field(name).column for name in model.shared_with]
                if model.pupil_path and "__" not in model.pupil_path and model.pupil_path != "pk":
                    fixed.append(model._meta.get_field(model.pupil_path).column)
                _keep_columns(cursor, table, fixed)
        _grant_policies(connection, cursor, role)


def _grant_policies(connection, cursor, role: str) -> None:
    """Pupil grants are read by every request (its scope is built from them, before any
    tenant is chosen), but added or changed only over records the transaction may write and
    only as the record of a real placement or transfer, and never deleted: a grant that
    ended stays as the record of who could see whom.

    - a placement's grant names a running placement of that pupil, provision and home school
      (and, once changed, may only end on or before the placement's last day);
    - a transfer's grant to the receiving school names a transfer of that pupil to it, from
      the school whose records it opens or from a school that held a grant to them;
    - the sending school's name grant names a transfer of that pupil out of it.
    The placement and transfer tables are looked up by model name, not imported: those apps
    build on this one.
    """
    from django.apps import apps

    from schools.models import PupilGrant

    grant = _q(connection, PupilGrant._meta.db_table)
    placement = _q(connection, apps.get_model("interventions", "ProvisionPlacement")._meta.db_table)
    transfer = _q(connection, apps.get_model("pupils", "Transfer")._meta.db_table)
    may_write = (
        f"({grant}.records_school_id = ANY ({ids('pm.write_school')}) "
        f"OR {grant}.provision_id = ANY ({ids('pm.write_provision')}))"
    )
    placed = (
        f"EXISTS (SELECT 1 FROM {placement} p WHERE p.id = {grant}.source_id "
        f"AND p.pupil_id = {grant}.pupil_id AND p.provision_id = {grant}.provision_id "
        f"AND p.school_id = {grant}.records_school_id AND {grant}.kind = 'record' "
        "AND (p.status = 'active' OR (p.status = 'ended' AND "
        f"{grant}.ends_on IS NOT NULL AND {grant}.ends_on <= p.ends_on)))"
    )
    received = (
        f"EXISTS (SELECT 1 FROM {transfer} t WHERE t.id = {grant}.source_id "
        f"AND t.pupil_id = {grant}.pupil_id AND t.to_school_id = {grant}.school_id "
        f"AND {grant}.kind = 'record' AND (t.school_id = {grant}.records_school_id "
        f"OR EXISTS (SELECT 1 FROM {grant} g2 WHERE g2.pupil_id = {grant}.pupil_id "
        f"AND g2.school_id = t.school_id AND g2.records_school_id = {grant}.records_school_id "
        "AND g2.kind = 'record')))"
    )
    sent = (
        f"EXISTS (SELECT 1 FROM {transfer} t WHERE t.id = {grant}.source_id "
        f"AND t.pupil_id = {grant}.pupil_id AND t.school_id = {grant}.school_id "
        f"AND {grant}.records_school_id = {grant}.school_id AND {grant}.kind = 'name')"
    )
    real = (
        f"(({grant}.reason = 'placement' AND {placed}) OR ({grant}.reason = 'transfer_in' AND {received}) "
        f"OR ({grant}.reason = 'transferred_out' AND {sent}))"
    )
    cursor.execute(f"ALTER TABLE {grant} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"ALTER TABLE {grant} FORCE ROW LEVEL SECURITY")
    for name in ("pm_read", "pm_insert", "pm_update"):
        cursor.execute(f"DROP POLICY IF EXISTS {name} ON {grant}")
    cursor.execute(f"CREATE POLICY pm_read ON {grant} FOR SELECT USING (true)")
    cursor.execute(f"CREATE POLICY pm_insert ON {grant} FOR INSERT WITH CHECK ({may_write} AND {real})")
    cursor.execute(
        f"CREATE POLICY pm_update ON {grant} FOR UPDATE USING ({may_write}) "
        f"WITH CHECK ({may_write} AND {real})"
    )
    cursor.execute(f"REVOKE DELETE, TRUNCATE ON TABLE {grant} FROM {role}")
    # Who holds a grant, for whom and why never changes; only its last day does.
    _keep_columns(
        cursor,
        grant,
        ["pupil_id", "school_id", "provision_id", "records_school_id", "kind", "reason", "source_id"],
    )


KEEP_FUNCTION = """
CREATE OR REPLACE FUNCTION pm_keep_columns() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY TG_ARGV LOOP
        IF (to_jsonb(NEW) -> name) IS DISTINCT FROM (to_jsonb(OLD) -> name) THEN
            RAISE EXCEPTION 'pm: % of % cannot change', name, TG_TABLE_NAME USING ERRCODE = '42501';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
"""


def _keep_columns(cursor, table: str, columns: list[str]) -> None:
    """A trigger that refuses any change to `columns`: the owner and the parties of a shared
    row stay who they were (a second party may change the row, never hand it to another)."""
    cursor.execute(KEEP_FUNCTION)
    cursor.execute(f"DROP TRIGGER IF EXISTS pm_keep_columns ON {table}")
    args = ", ".join("'" + c.replace("'", "") + "'" for c in columns)
    cursor.execute(
        f"CREATE TRIGGER pm_keep_columns BEFORE UPDATE ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION pm_keep_columns({args})"
    )


def on_post_migrate(sender, using: str = "default", **kwargs) -> None:
    # post_migrate fires once per app; the sync covers every table, so once is enough.
    if sender.label == "schools":
        sync_row_level_security(using)
