"""The one scoping mechanism for tenant data: two walls set together.

1. The ORM wall: tenant models use `TenantManager`, which filters every query by the
   active `TenantScope` and raises `UnscopedQueryError` when none is active (in
   development and tests; production answers nothing and logs).
2. The database wall: `tenant_scope()` writes the same scope into transaction-local
   PostgreSQL settings and switches to the app role, whose row-level-security policies
   (schools/rls.py) read them. A view that forgets the ORM wall still sees nothing of
   another school.

Requests get their scope from `schools.middleware.TenantScopeMiddleware`, Celery tasks
from `schools.tasks.ScopedTask`, commands and tests from `tenant_scope()` directly.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, models

logger = logging.getLogger(__name__)

# The tenant keys a table can be owned by, and the database settings that carry them.
TENANT_KEYS = ("school", "partnership", "local_authority")
# Keys that share a row with a second party besides its owner (a placement with the
# behaviour provision it is in): `TenantModel.shared_with` names the column. `la_figures` is
# an LA's figures for its officers (reports across its partnerships), which the LA's schools,
# though they read its reference data, never see.
SHARED_KEYS = ("provision", "la_figures")


class UnscopedQueryError(RuntimeError):
    """A tenant table was queried with no tenant scope active."""


class ScopeOutsideTransactionError(RuntimeError):
    """The database settings are transaction-local, so a scope needs a transaction."""


@dataclass(frozen=True)
class TenantScope:
    """What one membership may reach, as id sets per tenant key.

    `read_*` bounds the rows that may be read one by one, `write_*` the rows that may be
    changed. `count_school` names schools whose rows may only be counted: they become
    readable inside `counting()` alone, the block an aggregate selector runs in, so a view
    that forgets a check still gets no row of them. `home_school` is where the membership
    belongs (its audit rows name it). `pupil_level` says whether the role may see
    identifiable pupil records at all.

    Pupil grants reach across schools one pupil at a time (schools.models.PupilGrant):
    `read_pupil` names pupils whose whole record may be read wherever it was recorded (a
    school that received them by transfer; a behaviour provision while their placement is
    current); `name_pupil` names pupils whose own row alone may be read (a school that sent
    them on keeps their names beside what it recorded). `grant_school` names the schools
    those pupils' rows belong to, so reading them may be audited there.
    """

    role: str
    membership_id: int | None = None
    user_id: int | None = None
    read_school: frozenset[int] = field(default_factory=frozenset)
    write_school: frozenset[int] = field(default_factory=frozenset)
    count_school: frozenset[int] = field(default_factory=frozenset)
    home_school: frozenset[int] = field(default_factory=frozenset)
    read_partnership: frozenset[int] = field(default_factory=frozenset)
    write_partnership: frozenset[int] = field(default_factory=frozenset)
    read_local_authority: frozenset[int] = field(default_factory=frozenset)
    write_local_authority: frozenset[int] = field(default_factory=frozenset)
    read_provision: frozenset[int] = field(default_factory=frozenset)
    read_la_figures: frozenset[int] = field(default_factory=frozenset)
    write_la_figures: frozenset[int] = field(default_factory=frozenset)
    write_provision: frozenset[int] = field(default_factory=frozenset)
    count_provision: frozenset[int] = field(default_factory=frozenset)
    read_pupil: frozenset[int] = field(default_factory=frozenset)
    # (pupil, school) pairs: the pupil's rows recorded at that school. The database opens a
    # row under a grant only for its own pair; `read_pupil` (their pupils) narrows the ORM.
    read_pairs: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    name_pupil: frozenset[int] = field(default_factory=frozenset)
    grant_school: frozenset[int] = field(default_factory=frozenset)
    pupil_level: bool = False

    def ids(self, key: str, *, write: bool = False) -> frozenset[int]:
        return getattr(self, f"{'write' if write else 'read'}_{key}")

    def database_settings(self) -> dict[str, frozenset[int]]:
        values = {
            f"pm.{mode}_{key}": self.ids(key, write=mode == "write")
            for key in (*TENANT_KEYS, *SHARED_KEYS)
            for mode in ("read", "write")
        }
        pairs = sorted(self.read_pairs)
        values["pm.grant_pupil"] = [pupil for pupil, _ in pairs]
        values["pm.grant_school"] = [school for _, school in pairs]
        values["pm.name_pupil"] = self.name_pupil
        # Audit rows may name any school the membership works in or over, never another.
        values["pm.audit_school"] = (
            self.home_school | self.read_school | self.count_school | self.grant_school
        )
        return values

    @classmethod
    def for_school(cls, school_id: int, *, role: str = "system", la_id: int | None = None) -> TenantScope:
        """Full read/write on one school: seeding, imports and tests."""
        ids = frozenset({school_id})
        la = frozenset({la_id}) if la_id else frozenset()
        return cls(role=role, read_school=ids, write_school=ids, read_local_authority=la, pupil_level=True)

    @classmethod
    def system(
        cls,
        *,
        schools: Iterable[int] = (),
        partnerships: Iterable[int] = (),
        local_authorities: Iterable[int] = (),
        provisions: Iterable[int] = (),
        la_figures: Iterable[int] = (),
        count_schools: Iterable[int] = (),
        count_provisions: Iterable[int] = (),
    ) -> TenantScope:
        """An explicit scope for operator commands and scheduled work: names every tenant it
        touches (schools it may only count, for reports outside a school, apart)."""
        s, p, la = frozenset(schools), frozenset(partnerships), frozenset(local_authorities)
        pr, figures = frozenset(provisions), frozenset(la_figures)
        return cls(
            role="system",
            read_school=s,
            write_school=s,
            count_school=frozenset(count_schools),
            read_partnership=p,
            write_partnership=p,
            read_local_authority=la,
            write_local_authority=la,
            read_provision=pr,
            write_provision=pr,
            count_provision=frozenset(count_provisions),
            read_la_figures=figures,
            write_la_figures=figures,
            pupil_level=True,
        )


_current: contextvars.ContextVar[TenantScope | None] = contextvars.ContextVar("tenant_scope", default=None)
_app_role_depth: contextvars.ContextVar[int] = contextvars.ContextVar("app_role_depth", default=0)


def current_scope() -> TenantScope | None:
    return _current.get()


def require_scope() -> TenantScope:
    scope = _current.get()
    if scope is None:
        raise UnscopedQueryError("No tenant scope is active.")
    return scope


def _pg_array(ids: Iterable[int]) -> str:
    # Lists keep their order (two lists side by side make pairs); sets are sorted.
    ordered = ids if isinstance(ids, list) else sorted(ids)
    return "{" + ",".join(str(int(i)) for i in ordered) + "}"


SETTING_NAMES = tuple(TenantScope(role="").database_settings())


def _apply(scope: TenantScope | None, *, app_role: bool) -> None:
    """Write scope and role into transaction-local settings, in one round trip."""
    wanted = scope.database_settings() if scope else {}
    names = list(SETTING_NAMES)
    values = [_pg_array(wanted[name]) if scope else "" for name in names]
    names.append("role")
    values.append(settings.DATABASE_APP_ROLE if app_role else "none")
    sql = "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names)
    params: list[str] = []
    for name, value in zip(names, values, strict=True):
        params += [name, value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise ScopeOutsideTransactionError(
            "Tenant settings are transaction-local: open transaction.atomic() first."
        )


@contextmanager
def app_role(*, transaction_ends_here: bool = False) -> Iterator[None]:
    """Run the enclosed queries as the app role (no tenant yet: tenant tables look empty).

    `transaction_ends_here` skips putting the role back, for a caller whose transaction
    commits straight after the block (the request middleware): the commit clears it.
    """
    _require_transaction()
    depth = _app_role_depth.get()
    token = _app_role_depth.set(depth + 1)
    _apply(_current.get(), app_role=True)
    try:
        yield
    finally:
        _app_role_depth.reset(token)
        if not transaction_ends_here:
            _restore()


@contextmanager
def tenant_scope(scope: TenantScope) -> Iterator[TenantScope]:
    """Activate `scope` for the ORM and the database, as the app role, until the block ends."""
    _require_transaction()
    token = _current.set(scope)
    depth_token = _app_role_depth.set(_app_role_depth.get() + 1)
    _apply(scope, app_role=True)
    try:
        yield scope
    finally:
        _current.reset(token)
        _app_role_depth.reset(depth_token)
        _restore()


@contextmanager
def counting() -> Iterator[TenantScope]:
    """Let an aggregate selector read the rows of the schools the scope may only count.

    Only selectors that return figures (never rows) open this block; everywhere else those
    schools' rows stay invisible to the ORM and to the database alike.
    """
    scope = require_scope()
    if not (scope.count_school or scope.count_provision):
        yield scope
        return
    widened = dataclasses.replace(
        scope,
        read_school=scope.read_school | scope.count_school,
        read_provision=scope.read_provision | scope.count_provision,
    )
    with tenant_scope(widened):
        yield widened


def _restore() -> None:
    """Put back what was active outside the block, so nothing lingers after it."""
    if connection.needs_rollback or not connection.in_atomic_block:
        return  # the transaction is ending and takes its local settings with it
    try:
        _apply(_current.get(), app_role=_app_role_depth.get() > 0)
    except Exception:  # the transaction failed: rollback clears the settings anyway
        logger.debug("could not restore tenant settings; transaction is being rolled back")


class TenantManager(models.Manager):
    """Default manager of every tenant model: filters by the active scope, or refuses."""

    def get_queryset(self) -> models.QuerySet:
        qs = super().get_queryset()
        scope = _current.get()
        if scope is None:
            if settings.TENANT_STRICT:
                raise UnscopedQueryError(
                    f"{self.model._meta.label} queried with no tenant scope; use tenant_scope()."
                )
            logger.error("unscoped query on %s refused", self.model._meta.label)
            return qs.none()
        return qs.filter(readable(self.model, scope))


def readable(model: type[TenantModel], scope: TenantScope) -> models.Q:
    """The rows of `model` the scope may read: the ORM half of the policies in schools/rls.py."""
    q = models.Q(**{f"{model.tenant_key}_id__in": scope.ids(model.tenant_key)})
    for column, key in model.shared_with.items():
        if scope.ids(key):
            q |= models.Q(**{f"{column}_id__in": scope.ids(key)})
    path = model.pupil_path
    if path and scope.read_pupil:
        q |= _pupil_q(model, path, scope.read_pupil)
    if model.pupil_row and scope.name_pupil:
        q |= models.Q(pk__in=scope.name_pupil)
    return q


def _pupil_q(model: type[TenantModel], path: str, ids: frozenset[int]) -> models.Q:
    if "__" not in path:  # the pupil's own key, or a foreign key to it on the row
        return models.Q(**{f"{path}__in": ids})
    # Through a relation: a subquery, so a reverse path never repeats a row.
    inner = model._base_manager.filter(**{f"{path}__in": ids}).values("pk")
    return models.Q(pk__in=inner)


class TenantModel(models.Model):
    """Base of every table that holds a tenant's data.

    Subclassing is the one line that opts a model in: the scoped default manager here,
    and row-level-security policies on its table, created on every migrate (schools/rls.py).
    Subclasses set `tenant_key` and define the matching foreign key.
    """

    tenant_key: str = "school"
    # Pupil grants: the lookup from a row to the pupil it is about ("pupil", "plan__pupil",
    # "pk" on the pupil table itself); None for rows about no one pupil.
    pupil_path: str | None = None
    # The pupil table itself, whose rows a `name_pupil` grant also opens.
    pupil_row: bool = False
    # A second party that may read and change the row: {column: shared key}.
    shared_with: dict[str, str] = {}
    # Whether a party in `shared_with` may also add and remove rows (a row with several
    # possible owners, such as a report request for a school, a provision or a partnership).
    shared_can_add: bool = False

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.check_writable(owner=self._state.adding)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.check_writable(owner=True)
        return super().delete(*args, **kwargs)

    def check_writable(self, *, owner: bool = False) -> None:
        """Refuse, with a message, a change the database would refuse: a row another school
        recorded is read under a pupil grant but never changed (row-level security would
        stop it too, as a server error rather than an answer)."""
        scope = _current.get()
        if scope is None or getattr(self, "append_only", False):
            return
        if writable(self, scope, owner=owner):
            return
        raise RecordedElsewhere(self)


class RecordedElsewhere(PermissionDenied):
    """A change refused because another school (or service) recorded the row. The 403
    handlers write the refusal to the audit log, naming the row by type and id."""

    def __init__(self, row: models.Model) -> None:
        super().__init__("This was recorded by another school or service: you can read it but not change it.")
        self.object_type = row._meta.label_lower
        self.object_id = row.pk or ""
        self.school_id = getattr(row, "school_id", None)


def writable(row: TenantModel, scope: TenantScope, *, owner: bool = False) -> bool:
    """Whether the scope may change `row` (the ORM half of the write policies): its owner may;
    a second party it is shared with may change it too, but not add or remove one."""
    if getattr(row, f"{row.tenant_key}_id") in scope.ids(row.tenant_key, write=True):
        return True
    return (row.shared_can_add or not owner) and any(
        getattr(row, f"{column}_id") in scope.ids(key, write=True) for column, key in row.shared_with.items()
    )


def tenant_models() -> list[type[TenantModel]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.abstract]
