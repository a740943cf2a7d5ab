"""`manage.py load_frameworks --la CODE [--template KEY]`: copy the platform templates for an LA.

Idempotent: a template the LA already has (by its slug) is skipped, never copied twice.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from graduated_response.services import frameworks_load_for_la
from graduated_response.templates_data import TEMPLATES
from schools.models import LocalAuthority
from schools.tenancy import TenantScope, tenant_scope


class Command(BaseCommand):
    help = "Copy the platform's graduated-response framework templates for a local authority."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--la", required=True, help="The LA's three-digit code.")
        parser.add_argument(
            "--template",
            action="append",
            choices=sorted(TEMPLATES),
            help="A template key; repeat for several. All templates when left out.",
        )

    def handle(self, *args, **options) -> None:
        try:
            la = LocalAuthority.objects.get(code=options["la"])
        except LocalAuthority.DoesNotExist:
            raise CommandError(f"No local authority has the code {options['la']!r}.") from None
        with transaction.atomic(), tenant_scope(TenantScope.system(local_authorities=[la.pk])):
            copied, skipped = frameworks_load_for_la(la=la, template_keys=options["template"])
        for key in copied:
            self.stdout.write(self.style.SUCCESS(f"Copied {key} for {la}."))
        for key in skipped:
            self.stdout.write(f"Skipped {key}: {la} already has it.")
