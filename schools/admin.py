"""Platform administration of tenants and users. Nothing here shows pupil data."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from schools.models import (
    BehaviourProvision,
    LocalAuthority,
    Membership,
    Partnership,
    School,
    StaffRole,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["school", "provision", "partnership", "local_authority"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "require_two_factor_for_all"]
    search_fields = ["name", "code"]


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ["name", "local_authority"]
    search_fields = ["name"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "urn", "phase", "local_authority", "partnership"]
    list_filter = ["phase", "local_authority"]
    search_fields = ["name", "urn"]


@admin.register(BehaviourProvision)
class BehaviourProvisionAdmin(admin.ModelAdmin):
    list_display = ["name", "host_school", "partnership", "places"]
    search_fields = ["name"]


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["kind", "hourly_cost", "local_authority", "school"]
