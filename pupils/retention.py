"""Retention: a pupil's record goes once the LA's retention period has run (SECURITY.md 15).

SEN files are commonly kept until the pupil's 31st birthday; each LA sets its own number of
years (`LocalAuthority.retention_years_after_birth`). Every night beat runs
`pupils.apply_retention` (pupils/tasks.py), which calls `apply_retention` here; operators can
run it, or only count what it would do, with `manage.py apply_retention [--dry-run]`.

A pupil is removed when all three hold:
- their date of birth plus the LA's years is before today;
- they are no longer on roll (`is_active` False). A pupil still on roll is never removed,
  whatever their age: the school is working with them now;
- no headteacher has put their record on legal hold (a claim, an inquiry, a request to keep it).

What goes: the pupil's row and every row about them, wherever in the LA it was recorded (a
pupil transferred in leaves rows at the schools they came from): SEN register entries, the
one-page profile, outcomes, scores, transfers, steps, strategies tried, plans with their
targets and reviews, observations, intervention places with their attendance, behaviour
provision placements, and report requests about the pupil with their stored PDF and JSON
snapshot (register and provision-map downloads are built on request and never stored, so no
other file holds them). What stays: the audit log (append-only, ids only; one DELETE row per
pupil is added to it) and the pupil grants (ids and dates: the record of which school could see
whom, which the app role may never delete); a grant still open is ended, so no scope names the
pupil again.

How: LA by LA, school by school, in batches of pupils, each batch one transaction. Each school's
rows are deleted inside that school's own tenant scope, as the app role, under row-level
security, like any other write; the grants are ended in a scope over the pupil's schools, as a
transfer makes them. The tables are found from the pupil's foreign keys, not imported (the apps
that record them build on this one); a placement and a report request protect the pupil from
being deleted by accident (PROTECT), and are removed here on purpose. Stored files are deleted
once every row is gone and the foreign keys have been checked, just before the commit: a batch
that fails leaves its files alone, and a second run finds nothing more to do.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import Storage
from django.db import connection, transaction
from django.db.models import CASCADE, PROTECT, Count, FileField, Model, Q
from django.db.models.deletion import Collector, ProtectedError
from django.http import HttpRequest
from django.utils import timezone

from pupils.models import Pupil
from schools.audit import Action, audit, audit_each
from schools.models import LocalAuthority, PupilGrant, Role, School
from schools.tenancy import TenantScope, app_role, current_scope, require_scope, tenant_scope

logger = logging.getLogger(__name__)

# Pupils removed per transaction: small enough that one failing batch holds up few others.
BATCH = 100
REASON = "retention"
HOLD_REASON_MISSING = "Say why the record must be kept: the claim, inquiry or request, and who asked."

StoredFile = tuple[Storage, str]


# --- who is due -------------------------------------------------------------------------


def retention_cutoff(today: date, years: int) -> date:
    """Pupils born before this day are past retention on `today` (their birthday `years` on is
    behind them). A 29 February on either side is moved back to the 28th, so a record may be
    kept a day longer, never a day less."""
    return today - relativedelta(years=years)


@dataclass
class AuthorityOutcome:
    """What one run did (or, dry, would do) in one LA."""

    local_authority_id: int
    name: str
    years: int
    cutoff: date
    removed: int = 0  # pupils removed (dry run: due for removal)
    held: int = 0  # past retention and left, kept on legal hold
    on_roll: int = 0  # past retention but still on roll, kept
    failed: int = 0  # due, but could not be removed (logged; tried again by the next run)
    files: int = 0  # stored report files deleted


@dataclass
class RetentionResult:
    today: date
    dry_run: bool
    authorities: list[AuthorityOutcome] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        names = ("removed", "held", "on_roll", "failed", "files")
        return {name: sum(getattr(a, name) for a in self.authorities) for name in names}


def _school_scope(school_id: int) -> TenantScope:
    return TenantScope.system(schools=[school_id])


def apply_retention(today: date | None = None, *, dry_run: bool = False) -> RetentionResult:
    """Remove every pupil past their LA's retention date who has left and is not on legal hold,
    with everything recorded about them (see the module's docstring). A pupil still on roll is
    never removed, however old the record.

    Idempotent: once a pupil is gone nothing refers to them, so a second run the same day
    removes nothing more. `dry_run` only counts. Operator work across tenants: it refuses to run
    inside a tenant scope, and enters one school's scope at a time.
    """
    if current_scope() is not None:
        raise RuntimeError("Retention enters each school's scope itself: call it outside any scope.")
    today = today or timezone.localdate()
    with transaction.atomic(), app_role():  # organisation tables: no tenant needed to read them
        authorities = list(LocalAuthority.objects.order_by("name", "pk"))
        schools: dict[int, list[int]] = defaultdict(list)
        for school_id, la_id in School.objects.order_by("pk").values_list("pk", "local_authority_id"):
            schools[la_id].append(school_id)
    result = RetentionResult(today=today, dry_run=dry_run)
    for la in authorities:
        years = la.retention_years_after_birth
        outcome = AuthorityOutcome(la.pk, la.name, years, retention_cutoff(today, years))
        for school_id in schools[la.pk]:
            _apply_at_school(school_id, outcome, today=today, dry_run=dry_run)
        result.authorities.append(outcome)
        if outcome.removed or outcome.failed:
            logger.info(
                "retention in LA %s: %s pupils %s, %s failed",
                la.pk,
                outcome.removed,
                "due" if dry_run else "removed",
                outcome.failed,
            )
    return result


def _apply_at_school(school_id: int, outcome: AuthorityOutcome, *, today: date, dry_run: bool) -> None:
    with transaction.atomic(), tenant_scope(_school_scope(school_id)):
        past = Pupil.objects.filter(school_id=school_id, date_of_birth__lt=outcome.cutoff)
        kept = past.aggregate(
            on_roll=Count("pk", filter=Q(is_active=True)),
            held=Count("pk", filter=Q(is_active=False, legal_hold=True)),
        )
        due = list(past.filter(is_active=False, legal_hold=False).order_by("pk").values_list("pk", flat=True))
    outcome.on_roll += kept["on_roll"]
    outcome.held += kept["held"]
    if dry_run:
        outcome.removed += len(due)
        return
    for batch in _batches(due, BATCH):
        try:
            _count(outcome, _remove(school_id, batch, outcome, today=today))
        except Exception:  # nothing may stop the rest of the run
            # One pupil's rows somewhere unexpected (or a stored file that cannot be deleted)
            # must not hold up the rest, tonight or any night: one at a time.
            for pupil_id in batch:
                try:
                    _count(outcome, _remove(school_id, [pupil_id], outcome, today=today))
                except Exception as error:  # counted, logged, tried again next run
                    outcome.failed += 1
                    # The database's message may quote a row's values: the log names the
                    # error and the rule it broke, never what the row held (SECURITY.md 13).
                    rule = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
                    logger.error(
                        "retention: pupil %s not removed (%s %s)", pupil_id, type(error).__name__, rule or ""
                    )


def _count(outcome: AuthorityOutcome, done: tuple[int, int]) -> None:
    outcome.removed += done[0]
    outcome.files += done[1]


def _batches(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- removing -----------------------------------------------------------------------------


def _remove(
    school_id: int, pupil_ids: Sequence[int], outcome: AuthorityOutcome, *, today: date
) -> tuple[int, int]:
    """Remove these pupils of `school_id` and everything recorded about them, in one
    transaction; return how many pupils and stored files went."""
    with transaction.atomic():
        with tenant_scope(_school_scope(school_id)):
            # Checked again under a lock: a hold set, or a return to roll, since the list was
            # read wins.
            pupils = list(
                Pupil.objects.select_for_update()
                .filter(
                    pk__in=pupil_ids,
                    school_id=school_id,
                    is_active=False,
                    legal_hold=False,
                    date_of_birth__lt=outcome.cutoff,
                )
                .only("pk", "school_id", "date_of_birth")
                .order_by("pk")
            )
            ids = [p.pk for p in pupils]
            # Schools that recorded something about these pupils before they came here (by
            # transfer): the grants name them, and every role may read grants.
            recorded_at: dict[int, set[int]] = defaultdict(set)
            grants = PupilGrant.objects.filter(pupil_id__in=ids).values_list("pupil_id", "records_school_id")
            for pupil_id, records_school in grants:
                recorded_at[pupil_id].add(records_school)
        if not ids:
            return 0, 0
        elsewhere = set().union(*recorded_at.values()) - {school_id}
        with tenant_scope(TenantScope.system(schools=[school_id, *elsewhere])):
            _end_grants(ids, today)
        files: list[StoredFile] = []
        for other in sorted(elsewhere):
            with tenant_scope(_school_scope(other)):
                files += _erase_records(ids)
        with tenant_scope(_school_scope(school_id)):
            files += _erase_records(ids)
            audit_each(
                None,
                Action.DELETE,
                pupils,
                details=[
                    {
                        "reason": REASON,
                        "born": p.date_of_birth.year,
                        "retention_years": outcome.years,
                        "schools": sorted(recorded_at[p.pk] | {school_id}),
                    }
                    for p in pupils
                ],
            )
            Pupil.objects.filter(pk__in=ids).delete()
        # A row about these pupils left anywhere (a school the grants do not name) fails the
        # deferred foreign keys here, before any file is touched, and the batch rolls back.
        connection.check_constraints()
        for storage, name in files:
            storage.delete(name)
    return len(ids), len(files)


def _end_grants(pupil_ids: Sequence[int], today: date) -> None:
    """End the pupils' grants still open: ended, a grant stays as the record of who could see
    whom (the database lets nobody delete one), but no scope is built from it again."""
    yesterday = today - timedelta(days=1)
    current = Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    for grant in PupilGrant.objects.select_for_update().filter(current, pupil_id__in=pupil_ids):
        grant.ends_on = max(grant.starts_on - timedelta(days=1), yesterday)
        grant.save(update_fields=["ends_on"])


def records_about_a_pupil() -> list[tuple[type[Model], str]]:
    """Every table with a foreign key to the pupil whose rows go with them, and that key's
    name. CASCADE rows would go with the pupil anyway; PROTECT rows (a provision placement, a
    report request) keep a pupil from being deleted by mistake, and retention removes them on
    purpose. A SET_NULL or DO_NOTHING key means its rows are not the pupil's: left alone."""
    found = []
    for relation in Pupil._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and relation.is_relation):
            continue
        if relation.on_delete in (CASCADE, PROTECT):
            found.append((relation.related_model, relation.field.name))
    return found


def _erase_records(pupil_ids: Sequence[int]) -> list[StoredFile]:
    """Delete the active scope's rows about these pupils (and the rows hanging off them);
    return the stored files they named, still to be deleted.

    Some rows protect others: a plan's strategy protects the strategy tried it names, so the
    strategies tried can only go after the plans. A table whose rows are still protected waits
    for a later round; Django finds the protection before it deletes anything.
    """
    pending = records_about_a_pupil()
    files: list[StoredFile] = []
    while pending:
        waiting = []
        for model, key in pending:
            # Unordered: a default ordering through the pupil (an enrolment's is by surname) would
            # join the pupil's row, which another school's scope cannot see, and lose the rows.
            rows = model._default_manager.filter(**{f"{key}__in": pupil_ids}).order_by()
            # Locked first, so a report build still writing its files finishes before their
            # names are read (else its PDF would outlive the row that named it).
            list(rows.select_for_update(of=("self",)).values_list("pk", flat=True))
            collector = Collector(using=rows.db, origin=rows)
            try:
                collector.collect(rows)
            except ProtectedError:
                waiting.append((model, key))
                continue
            files += _stored_files(collector)
            collector.delete()
        if len(waiting) == len(pending):
            labels = ", ".join(model._meta.label for model, _ in waiting)
            raise ProtectedError(f"Rows about the pupil protect one another: {labels}.", set())
        pending = waiting
    return files


def _stored_files(collector: Collector) -> list[StoredFile]:
    """The files named by the rows the collector is about to delete."""
    batches = [
        (model, model._base_manager.filter(pk__in=[obj.pk for obj in objs]).order_by())
        for model, objs in collector.data.items()
    ]
    batches += [(rows.model, rows) for rows in collector.fast_deletes]
    found: list[StoredFile] = []
    for model, rows in batches:
        fields = [f for f in model._meta.concrete_fields if isinstance(f, FileField)]
        if not fields:
            continue
        for names in rows.values_list(*(f.attname for f in fields)):
            found += [(f.storage, name) for f, name in zip(fields, names, strict=True) if name]
    return found


# --- legal hold ------------------------------------------------------------------------------


def legal_hold_set(*, request: HttpRequest | None, pupil: Pupil, hold: bool, reason: str = "") -> Pupil:
    """Put a pupil's record on legal hold (kept past its retention date), or lift the hold.

    Only the headteacher of the pupil's own school may, or an operator's system scope. The
    reason is required to set a hold and cleared when it is lifted; the audit row records the
    change, not the reason (which may describe a claim about the child).
    """
    scope = require_scope()
    membership = getattr(request, "membership", None)
    role = membership.role if membership is not None else scope.role
    if pupil.school_id not in scope.write_school or role not in (Role.HEADTEACHER, "system"):
        raise PermissionDenied("Only the headteacher of the pupil's school can set or lift a legal hold.")
    reason = reason.strip() if hold else ""
    if hold and not reason:
        raise ValidationError({"legal_hold_reason": HOLD_REASON_MISSING})
    with transaction.atomic():
        locked = Pupil.objects.select_for_update().only("pk", "school_id", "legal_hold").get(pk=pupil.pk)
        before = locked.legal_hold
        Pupil.objects.filter(pk=locked.pk).update(
            legal_hold=hold, legal_hold_reason=reason, updated_at=timezone.now()
        )
        audit(
            request,
            Action.UPDATE,
            locked,
            detail={"fields": ["legal_hold"], "from": before, "to": hold, "event": "legal_hold"},
        )
    pupil.legal_hold, pupil.legal_hold_reason = hold, reason
    return pupil
