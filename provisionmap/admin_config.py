from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    # Kept apart from admin_site.py: an AppConfig module must not import models.
    default_site = "provisionmap.admin_site.PlatformAdminSite"
