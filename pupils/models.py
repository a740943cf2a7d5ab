"""Pupils. This is the core record; the SEN register, needs and outcomes build on it."""

from django.db import models

from schools.models import School
from schools.tenancy import TenantModel


class Pupil(TenantModel):
    tenant_key = "school"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="pupils")
    upn = models.CharField("UPN", max_length=13)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nc_year = models.SmallIntegerField(
        "NC year", help_text="National Curriculum year; 0 is reception, -1 nursery."
    )
    is_active = models.BooleanField(
        default=True, help_text="Leavers stay on record but leave the active lists."
    )

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [models.UniqueConstraint(fields=["school", "upn"], name="pupil_upn_unique_in_school")]
        indexes = [models.Index(fields=["school", "last_name", "first_name"], name="pupil_school_name")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"
