"""Demo KPI targets: the partnership's targets for the demo provision, this school year and
last. Idempotent: a target already there (the demo's, or one a user changed) is kept."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from schools.demo import DemoWorld
from schools.models import Kpi, KpiTarget
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import academic_year_of

DEMO_TARGETS = {
    Kpi.PUPILS_PLACED: Decimal(10),
    Kpi.SCHOOLS_SERVED: Decimal(4),
    Kpi.REINTEGRATION_RATE: Decimal(75),
    Kpi.AVERAGE_STAY_WEEKS: Decimal(12),
    Kpi.ATTENDANCE_RATE: Decimal(90),
    Kpi.SUSPENSIONS: Decimal(6),
}


@transaction.atomic
def seed_kpi_targets(world: DemoWorld) -> int:
    """Returns how many targets it made (0 on a second run)."""
    provision = world.provision
    year = academic_year_of(timezone.localdate())
    made = 0
    with tenant_scope(TenantScope.system(partnerships=[provision.partnership_id])):
        for academic_year in (year - 1, year):
            for kpi, target in DEMO_TARGETS.items():
                _, created = KpiTarget.objects.get_or_create(
                    partnership_id=provision.partnership_id,
                    provision=provision,
                    academic_year=academic_year,
                    kpi=kpi,
                    defaults={"target": target},
                )
                made += created
    return made
