from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = "Schools, partnerships and local authorities"

    def ready(self) -> None:
        from schools.rls import on_post_migrate

        post_migrate.connect(on_post_migrate, dispatch_uid="schools.rls.sync")
