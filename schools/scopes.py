"""From a membership to the TenantScope it grants (DESIGN §2's table of roles)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, Q, QuerySet
from django.db.models.functions import JSONObject
from django.utils import timezone

from schools.models import BehaviourProvision, Membership, PupilGrant, Role, School
from schools.tenancy import TenantScope


@dataclass(frozen=True)
class Grants:
    """The pupil grants a membership holds today (schools.models.PupilGrant)."""

    read_pupil: frozenset[int] = frozenset()
    read_pairs: frozenset[tuple[int, int]] = frozenset()
    name_pupil: frozenset[int] = frozenset()
    schools: frozenset[int] = frozenset()

    @classmethod
    def from_rows(cls, rows) -> Grants:
        rows = rows or []
        records = [r for r in rows if r["kind"] == PupilGrant.Kind.RECORD]
        return cls(
            read_pupil=frozenset(r["pupil"] for r in records),
            read_pairs=frozenset((r["pupil"], r["school"]) for r in records),
            name_pupil=frozenset(r["pupil"] for r in rows if r["kind"] == PupilGrant.Kind.NAME),
            schools=frozenset(r["school"] for r in records),
        )


def current_grants(**holder) -> QuerySet[PupilGrant]:
    """Grants held today by a school or a provision: started, and not yet past their last day."""
    today = timezone.localdate()
    return PupilGrant.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today), starts_on__lte=today, **holder
    )


def with_grants(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Memberships with today's pupil grants of their school or provision, in the same query."""
    rows = JSONObject(pupil=F("pupil_id"), kind=F("kind"), school=F("records_school_id"))
    provisions = BehaviourProvision.objects.values("pk")
    return memberships.annotate(
        school_grants=ArraySubquery(current_grants(school=OuterRef("school_id")).values(json=rows)),
        provision_grants=ArraySubquery(current_grants(provision=OuterRef("provision_id")).values(json=rows)),
        partnership_provisions=ArraySubquery(provisions.filter(partnership=OuterRef("partnership_id"))),
        provision_schools=ArraySubquery(
            School.objects.filter(partnership__provisions=OuterRef("provision_id")).values("pk")
        ),
        la_provisions=ArraySubquery(
            provisions.filter(partnership__local_authority=OuterRef("local_authority_id"))
        ),
    )


def _ids(membership: Membership, attribute: str, model, **where) -> frozenset[int]:
    """Ids loaded with the membership by `with_grants`, or asked for now."""
    if hasattr(membership, attribute):
        return frozenset(getattr(membership, attribute) or ())
    return frozenset(model.objects.filter(**where).values_list("pk", flat=True))


def _grants(membership: Membership, field: str) -> Grants:
    attribute = f"{field}_grants"
    if not hasattr(membership, attribute):  # loaded without with_grants: ask now
        holder = {field: getattr(membership, f"{field}_id")}
        rows = list(current_grants(**holder).values("pupil_id", "kind", "records_school_id"))
        return Grants.from_rows(
            [{"pupil": r["pupil_id"], "kind": r["kind"], "school": r["records_school_id"]} for r in rows]
        )
    return Grants.from_rows(getattr(membership, attribute))


def scope_for_membership(membership: Membership) -> TenantScope:
    role = Role(membership.role)
    base = {"role": role.value, "membership_id": membership.pk, "user_id": membership.user_id}
    if role in (Role.SENCO, Role.HEADTEACHER, Role.PRACTITIONER):
        # Pupils received by transfer: their whole history, wherever it was recorded; pupils
        # sent on: their names beside what this school recorded (pupils/transfers.py).
        grants = _grants(membership, "school")
        base |= {
            "read_pupil": grants.read_pupil,
            "read_pairs": grants.read_pairs,
            "name_pupil": grants.name_pupil,
            "grant_school": grants.schools,
        }
    if role in (Role.SENCO, Role.HEADTEACHER):
        school = membership.school
        ids = frozenset({school.pk})
        hosted = frozenset()
        if role is Role.HEADTEACHER:
            # The headteacher of a school hosting a partnership's provision reads that
            # partnership's budget and signs for the host school (one query). Partnership
            # rows hold no pupil data; which changes a headteacher may make there is the
            # services' check (schools/budgets.py: approvals only).
            hosted = frozenset(
                BehaviourProvision.objects.filter(host_school_id=school.pk)
                .values_list("partnership_id", flat=True)
                .distinct()
            )
        return TenantScope(
            **base,
            read_school=ids,
            write_school=ids,
            home_school=ids,
            read_partnership=hosted,
            write_partnership=hosted,
            # The LA's own reference data (frameworks, rates) is read by its schools.
            read_local_authority=frozenset({school.local_authority_id}),
            pupil_level=True,
        )
    if role is Role.PRACTITIONER:
        school = membership.school
        ids = frozenset({school.pk})
        # The database lets a practitioner's transaction reach their school's rows (they
        # record sessions and attendance there); which pupils they see is narrowed to the
        # groups they run by the register's selector, which every pupil route goes through.
        return TenantScope(
            **base,
            read_school=ids,
            write_school=ids,
            home_school=ids,
            read_local_authority=frozenset({school.local_authority_id}),
            pupil_level=True,
        )
    if role is Role.PROVISION_LEAD:
        provision = membership.provision
        # The provision's placements, always; the whole record of a pupil only while their
        # placement is current (the grant's days). The host school's own pupils are not the
        # provision's.
        grants = _grants(membership, "provision")
        pid = frozenset({provision.pk})
        return TenantScope(
            **base,
            home_school=frozenset({provision.host_school_id}),
            read_provision=pid,
            write_provision=pid,
            read_pupil=grants.read_pupil,
            read_pairs=grants.read_pairs,
            # Its placements' home schools are the partnership's (a referral must come from
            # one), and its reads and changes of them are logged there.
            grant_school=grants.schools
            | _ids(membership, "provision_schools", School, partnership_id=provision.partnership_id),
            read_partnership=frozenset({provision.partnership_id}),
            read_local_authority=frozenset({provision.partnership.local_authority_id}),
            pupil_level=True,
        )
    if role is Role.PARTNERSHIP_LEAD:
        partnership = membership.partnership
        pid = frozenset({partnership.pk})
        return TenantScope(
            **base,
            count_school=frozenset(
                School.objects.filter(partnership=partnership).values_list("pk", flat=True)
            ),
            count_provision=_ids(
                membership, "partnership_provisions", BehaviourProvision, partnership=partnership
            ),
            read_partnership=pid,
            write_partnership=pid,
            read_local_authority=frozenset({partnership.local_authority_id}),
        )
    if role is Role.LA_OFFICER:
        la_id = membership.local_authority_id
        return TenantScope(
            **base,
            count_school=frozenset(
                School.objects.filter(local_authority_id=la_id).values_list("pk", flat=True)
            ),
            count_provision=_ids(
                membership, "la_provisions", BehaviourProvision, partnership__local_authority_id=la_id
            ),
            read_partnership=frozenset(membership.local_authority.partnerships.values_list("pk", flat=True)),
            read_local_authority=frozenset({la_id}),
            # The LA's own figures (its overview reports) are its officers' alone.
            read_la_figures=frozenset({la_id}),
            write_la_figures=frozenset({la_id}),
        )
    if role is Role.LA_ADMIN:
        la = frozenset({membership.local_authority_id})
        return TenantScope(**base, read_local_authority=la, write_local_authority=la)
    # The platform administrator sees no tenant data; break-glass grants come later.
    return TenantScope(**base)
