"""Parts of a pupil's page that apps built on pupils contribute.

Apps above pupils (the graduated response, interventions) know about pupils, never the
other way round; so they register a function here, from their AppConfig.ready(), that
returns the template context for their part of the page. Each function must cost a fixed
number of queries, whatever the size of the pupil's history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from pupils.models import Pupil

DetailSection = Callable[[HttpRequest, Pupil, bool], dict[str, Any]]
_sections: list[DetailSection] = []


def register_detail_section(section: DetailSection) -> DetailSection:
    if section not in _sections:
        _sections.append(section)
    return section


def detail_sections(request: HttpRequest, pupil: Pupil, *, can_write: bool) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for section in _sections:
        context.update(section(request, pupil, can_write))
    return context
