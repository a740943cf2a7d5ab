"""The Celery base task that re-enters a tenant scope given explicitly with each call.

A task never inherits a scope from whatever ran before it in the same worker: the scope
travels in the `tenant` keyword, is activated inside the task's own transaction (as the
app role, transaction-local), and a call without it fails before touching any data.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction

from schools.models import Membership
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, app_role, current_scope, tenant_scope


class MissingTenantScopeError(RuntimeError):
    pass


def tenant_payload(scope: TenantScope) -> dict[str, Any]:
    """What a task needs to rebuild `scope`: the membership if there is one, else the ids."""
    if scope.membership_id is not None:
        return {"membership_id": scope.membership_id}
    named = {
        "schools": scope.write_school,
        "partnerships": scope.write_partnership,
        "local_authorities": scope.write_local_authority,
        "provisions": scope.write_provision,
        "la_figures": scope.write_la_figures,
        "count_schools": scope.count_school,
        "count_provisions": scope.count_provision,
    }
    return {"system": {key: sorted(ids) for key, ids in named.items() if ids or key == "schools"}}


def scope_from_payload(payload: dict[str, Any]) -> TenantScope:
    if "membership_id" in payload:
        # Re-read the membership: one removed since the call was queued grants nothing.
        membership = Membership.objects.select_related(
            "school", "provision__partnership", "partnership", "local_authority"
        ).get(pk=payload["membership_id"])
        return scope_for_membership(membership)
    if "system" in payload:
        return TenantScope.system(**payload["system"])
    raise MissingTenantScopeError("Task payload names no tenant.")


class ScopedTask(Task):
    acks_late = True
    reject_on_worker_lost = True
    # The `tenant` keyword is consumed here, not by the task function's signature.
    typing = False
    # A task that must commit along the way (a report build claims its row and commits
    # before the long build) cannot run inside one transaction: it is handed the scope as
    # `scope=` instead, and enters `tenant_scope(scope)` in each transaction it opens.
    scope_per_transaction = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        payload = kwargs.pop("tenant", None)
        if not payload:
            raise MissingTenantScopeError(f"{self.name} was called without a tenant scope.")
        if self.scope_per_transaction:
            with transaction.atomic(), app_role():
                scope = scope_from_payload(payload)
            return super().__call__(*args, scope=scope, **kwargs)
        with transaction.atomic():
            with app_role():
                scope = scope_from_payload(payload)
            with tenant_scope(scope):
                return super().__call__(*args, **kwargs)


class OperatorTask(Task):
    """Operator work across tenants that beat starts with no tenant (the report sweep and
    schedule). It refuses a `tenant` (no caller may widen it) and to run inside another
    scope, and enters, for each LA it touches, a scope it names itself."""

    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "tenant" in kwargs:
            raise TypeError(f"{self.name} works LA by LA under scopes of its own; it takes no tenant.")
        if current_scope() is not None:
            raise RuntimeError(f"{self.name} must not run inside another tenant's scope.")
        return super().__call__(*args, **kwargs)


def enqueue(task: Task, scope: TenantScope, *args: Any, **kwargs: Any) -> None:
    """Queue after commit, so the worker never runs before the rows it needs exist."""
    payload = tenant_payload(scope)
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs={**kwargs, "tenant": payload}))
