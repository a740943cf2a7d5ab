from django.apps import AppConfig


class GraduatedResponseConfig(AppConfig):
    name = "graduated_response"

    def ready(self) -> None:
        from graduated_response import sections
        from pupils.sections import register_detail_section

        register_detail_section(sections.pupil_page)
