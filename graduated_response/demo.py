"""Demo step placements: pupils with SEN placed on the demo LA's NW six-step framework,
with the strategies tried and reviewed that their moves up needed. Idempotent."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction

from graduated_response.models import Framework, StepPlacement, StrategyTried
from pupils.codes import Need, SenStatus
from pupils.models import Pupil
from schools.models import LocalAuthority, School
from schools.tenancy import TenantScope, tenant_scope

FRAMEWORK_SLUG = "nw-six-step"


def _target_step(pupil: Pupil, rng: random.Random) -> int:
    if pupil.sen_status == SenStatus.EHC_PLAN:
        return rng.choice([4, 4, 5])
    if pupil.primary_need == Need.SEMH:
        return rng.choice([2, 3, 3])
    return rng.choice([2, 2, 3])


def seed_placements(la: LocalAuthority, schools: list[School], *, today: date | None = None) -> int:
    """Place each school's pupils with SEN who have no placement yet; returns how many."""
    today = today or date.today()
    made = 0
    for school in schools:
        rng = random.Random(f"demo-steps-{school.urn}")  # noqa: S311 - repeatable demo data, not secrets
        scope = TenantScope.for_school(school.pk, la_id=la.pk)
        with transaction.atomic(), tenant_scope(scope):
            framework = Framework.objects.filter(
                local_authority=la, slug=FRAMEWORK_SLUG, is_current=True
            ).first()
            if framework is None:
                continue
            steps = {s.number: s for s in framework.steps.prefetch_related("strategies")}
            placed = set(StepPlacement.objects.values_list("pupil_id", flat=True))
            pupils = Pupil.objects.exclude(sen_status=SenStatus.NONE).exclude(pk__in=placed).order_by("pk")
            placements, tried = [], []
            for pupil in pupils:
                target = _target_step(pupil, rng)
                when = today - timedelta(days=rng.randint(150, 600))
                number, previous = 2, None
                while True:
                    step = steps[number]
                    final = number == target
                    placements.append(
                        StepPlacement(
                            school=school,
                            pupil=pupil,
                            framework=framework,
                            step=step,
                            from_step=previous,
                            kind=StepPlacement.Kind.START if previous is None else StepPlacement.Kind.UP,
                            reason="Demo history",
                            placed_on=when,
                            status=StepPlacement.Status.ACTIVE if final else StepPlacement.Status.SUPERSEDED,
                        )
                    )
                    needed = step.min_strategies_to_escalate or 0
                    catalogue = list(step.strategies.all())
                    count = needed if not final else rng.randint(0, max(1, needed - 1))
                    for strategy in rng.sample(catalogue, min(count, len(catalogue))):
                        started = when + timedelta(days=rng.randint(1, 20))
                        reviewed = started + timedelta(days=42) if not final or rng.random() < 0.5 else None
                        tried.append(
                            StrategyTried(
                                school=school,
                                pupil=pupil,
                                step=step,
                                strategy=strategy,
                                started_on=started,
                                reviewed_on=reviewed if reviewed and reviewed <= today else None,
                            )
                        )
                    if final:
                        break
                    previous, number = step, number + 1
                    when = min(today, when + timedelta(days=rng.randint(60, 120)))
            StepPlacement.objects.bulk_create(placements)
            StrategyTried.objects.bulk_create(tried)
            made += len({p.pupil_id for p in placements})
    return made
