from django.apps import AppConfig


class PupilsConfig(AppConfig):
    name = "pupils"

    def ready(self) -> None:
        from pupils import views_transfers
        from pupils.sections import register_detail_section

        register_detail_section(views_transfers.pupil_page)
