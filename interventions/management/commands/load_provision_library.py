"""`manage.py load_provision_library --la CODE`: fill an LA's provision library.

Idempotent: entries already in the library (by name) are left as the LA has them.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from interventions.library import library_load_for_la
from schools.models import LocalAuthority
from schools.tenancy import TenantScope, tenant_scope


class Command(BaseCommand):
    help = "Add the typical provisions and the framework strategies to a local authority's library."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--la", required=True, help="The LA's three-digit code.")

    def handle(self, *args, **options) -> None:
        try:
            la = LocalAuthority.objects.get(code=options["la"])
        except LocalAuthority.DoesNotExist:
            raise CommandError(f"No local authority has the code {options['la']!r}.") from None
        with transaction.atomic(), tenant_scope(TenantScope.system(local_authorities=[la.pk])):
            added, skipped = library_load_for_la(la)
        self.stdout.write(
            self.style.SUCCESS(f"{la}: {added} provisions added to the library, {skipped} already there.")
        )
