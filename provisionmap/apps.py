from django.apps import AppConfig


class ProvisionmapConfig(AppConfig):
    """The wiring package: commands that span every app (seed_demo) live here."""

    name = "provisionmap"
    verbose_name = "Provision Map"
