"""A membership names exactly the scope its role needs."""

import pytest
from django.db import IntegrityError, transaction

from schools.models import Membership
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("senco", {}),  # a school role without its school
        ("senco", {"local_authority": "la"}),  # with the wrong kind of scope
        ("la_officer", {"school": "school"}),
        ("partnership_lead", {"partnership": "partnership", "school": "school"}),  # two scopes
        ("platform_admin", {"local_authority": "la"}),
    ],
)
def test_a_role_with_the_wrong_scope_is_refused_by_the_database(tenant, role, scope):
    objects = {"la": tenant.la, "school": tenant.school, "partnership": tenant.partnership}
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=UserFactory(), role=role, **{k: objects[v] for k, v in scope.items()})


def test_each_role_with_its_own_scope_is_accepted(tenant):
    user = UserFactory()
    for role, scope in [
        ("senco", {"school": tenant.school}),
        ("provision_lead", {"provision": tenant.provision}),
        ("partnership_lead", {"partnership": tenant.partnership}),
        ("la_admin", {"local_authority": tenant.la}),
        ("platform_admin", {}),
    ]:
        Membership.objects.create(user=user, role=role, **scope)
    assert user.memberships.count() == 5
