from django.apps import AppConfig


class GraduatedResponseConfig(AppConfig):
    name = "graduated_response"

    def ready(self) -> None:
        from graduated_response import sections
        from graduated_response.transfers import settle_graduated_response
        from pupils.sections import register_detail_section
        from pupils.transfers import register_transfer_step

        register_detail_section(sections.pupil_page)
        register_transfer_step(settle_graduated_response)
