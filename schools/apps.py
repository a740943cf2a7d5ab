from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = "Schools, partnerships and local authorities"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from schools.rls import on_post_migrate
        from schools.signin import start_session_clocks

        post_migrate.connect(on_post_migrate, dispatch_uid="schools.rls.sync")
        # Every way of signing in starts the idle and absolute session limits.
        user_logged_in.connect(start_session_clocks, dispatch_uid="schools.signin.clocks")
        # Disabling a user or taking a role away ends their sessions and tokens at once.
        import schools.signals  # noqa: F401
