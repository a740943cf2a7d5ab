"""Factories. Tenant rows are created inside their own school's scope, as the app does."""

from __future__ import annotations

import itertools
from datetime import date

import factory
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from pupils.demo import make_upn
from pupils.models import Pupil
from schools.models import BehaviourProvision, LocalAuthority, Membership, Partnership, School, User
from schools.tenancy import TenantScope, tenant_scope

_la_codes = itertools.cycle(["909", "938", "821", "886", "330"])
_urns = itertools.count(300001)


class LocalAuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalAuthority
        django_get_or_create = ("code",)

    code = factory.LazyFunction(lambda: next(_la_codes))
    name = factory.Sequence(lambda n: f"Test Council {n}")


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    local_authority = factory.SubFactory(LocalAuthorityFactory)
    name = factory.Sequence(lambda n: f"Partnership {n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    urn = factory.LazyFunction(lambda: str(next(_urns)))
    name = factory.Sequence(lambda n: f"School {n}")
    local_authority = factory.SubFactory(LocalAuthorityFactory)
    partnership = None
    phase = School.Phase.PRIMARY


class ProvisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BehaviourProvision

    name = factory.Sequence(lambda n: f"Provision {n}")
    host_school = factory.SubFactory(SchoolFactory)
    partnership = factory.SubFactory(PartnershipFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)


def give_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


_serials = itertools.count(1)


class PupilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pupil

    school = factory.SubFactory(SchoolFactory)
    upn = factory.LazyAttribute(lambda p: make_upn("909", p.school.urn[-4:], 2025, next(_serials) % 1000))
    first_name = factory.Sequence(lambda n: f"Firstname{n}")
    last_name = factory.Sequence(lambda n: f"Surname{n}")
    date_of_birth = date(2015, 3, 4)
    nc_year = 5

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        school = kwargs["school"]
        with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
            return super()._create(model_class, *args, **kwargs)
