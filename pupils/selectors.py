from __future__ import annotations

from django.db.models import Q, QuerySet

from pupils.models import Pupil
from schools.models import Role
from schools.tenancy import TenantScope


def pupil_list(scope: TenantScope, *, search: str = "", include_leavers: bool = False) -> QuerySet[Pupil]:
    """Pupils the scope reaches (its manager filters by school), newest register order."""
    qs = Pupil.objects.all()
    if scope.role == Role.PRACTITIONER:
        # Practitioners read only pupils in the groups they run; groups come with the
        # interventions issue, so until then they see none.
        return qs.none()
    if not include_leavers:
        qs = qs.filter(is_active=True)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(upn__iexact=search) | Q(last_name__icontains=search) | Q(first_name__icontains=search)
        )
    return qs.order_by("last_name", "first_name", "id")
