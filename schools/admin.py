"""Platform administration of tenants and users. Nothing here shows pupil data."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools.audit import membership_audit
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

    def save_formset(self, request, form, formset, change):
        # Who gave whom which role is part of the audit trail, like any change.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            membership_audit(request, obj, removed=True)
            obj.delete()
        for obj in instances:
            obj.save()
            membership_audit(request, obj, removed=False)
        formset.save_m2m()


# Two-factor devices are enrolled by their owner alone; the admin has no business with them.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "require_two_factor_for_all", "retention_years_after_birth"]
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
