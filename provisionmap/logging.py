"""Keep special-category data out of logs and error reports."""

import logging
import re

from django.views.debug import SafeExceptionReporterFilter


class PupilDataExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|DATABASE_URL|REDIS_URL", flags=re.I)

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if request is None:
            return params
        cleaned = params.copy()
        for key in cleaned:
            cleaned[key] = self.cleansed_substitute
        return cleaned

    def get_traceback_frame_variables(self, request, tb_frame):
        # Local variables of any frame may hold a pupil; report their names only.
        return [
            (name, self.cleansed_substitute)
            for name, _ in super().get_traceback_frame_variables(request, tb_frame)
        ]


class ScrubSensitiveFilter(logging.Filter):
    """Drop query strings from request lines so searches for a child's name never reach a log."""

    query = re.compile(r"(\?)[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = self.query.sub(r"\1[scrubbed]", record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self.query.sub(r"\1[scrubbed]", a) if isinstance(a, str) and "?" in a else a
                for a in record.args
            )
        return True
