from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "interventions"

    def ready(self) -> None:
        from graduated_response.timeline import register_source
        from interventions import sections
        from interventions.selectors import practitioner_pupil_ids
        from interventions.timeline import enrolment_events
        from interventions.transfers import end_enrolments, placement_blocks_transfer
        from pupils.sections import register_detail_section
        from pupils.selectors import register_practitioner_pupils
        from pupils.transfers import register_transfer_check, register_transfer_step

        register_source(enrolment_events)
        register_detail_section(sections.pupil_page)
        register_practitioner_pupils(practitioner_pupil_ids)
        register_transfer_check(placement_blocks_transfer)
        register_transfer_step(end_enrolments)

        # Placements in behaviour provisions: a section of the pupil's page and timeline events.
        from interventions import pupil_placements

        register_source(pupil_placements.placement_events)
        register_detail_section(pupil_placements.pupil_page)
