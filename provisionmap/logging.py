"""Keep special-category data out of logs and error reports."""

import logging
import re
from types import TracebackType

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


def _unwrap(error: BaseException) -> BaseException:
    """The exception itself, out of the wrapper Celery's pool sends it back to the worker in."""
    inner = getattr(error, "exc", None)
    return inner if isinstance(inner, BaseException) else error


def exception_outline(error: BaseException, tb: TracebackType | None = None) -> str:
    """An exception's type and the innermost frames it passed through, as `file:line
    (function)`: enough to find the fault, and nothing the exception said about a child.
    Chained causes are named by type too."""
    names = [type(error).__name__]
    seen = {id(error)}
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        names.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    frames: list[str] = []
    tb = tb if tb is not None else error.__traceback__
    try:
        # Walked by hand: a worker's traceback may be billiard's picklable stand-in, which
        # has the frame attributes but not everything the traceback module expects.
        while tb is not None:
            code = tb.tb_frame.f_code
            frames.append(f"{code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno} ({code.co_name})")
            tb = tb.tb_next
    except AttributeError:
        pass
    outline = " from ".join(names)
    if frames:
        outline += " at " + " < ".join(reversed(frames[-4:]))
    return outline


class ExceptionTypeOnlyFilter(logging.Filter):
    """Keep an exception's words out of the log, keeping its type and where it was raised.

    An exception's message, the traceback's text and any local variables can quote a pupil
    (a name in a ValueError, a UPN in a database error's DETAIL), so a record carrying an
    exception loses it and says instead which type was raised where (SECURITY.md 13).
    Celery's task records also carry the exception's repr and traceback text in their
    arguments; those are cut down to the type alone. A filter on a handler sees every record
    that handler writes; on a logger, only the records logged there (not its children's),
    which is how the worker's records are caught under the handlers Celery puts in place.
    """

    celery_type = re.compile(r"^((?:Retry in [^:]*: )?[A-Za-z_][\w.]*)")

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "exception_hidden", False):
            return True  # done already by the logger's filter; this is the handler's
        error = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
        outline = exception_outline(_unwrap(error), record.exc_info[2]) if error is not None else None
        if isinstance(record.args, dict) and "exc" in record.args:
            # Celery's task records: "Task x[id] raised unexpected: %(exc)s", with the
            # traceback's text and the call's arguments beside it (also in `record.data`).
            context = dict(record.args)
            context["exc"] = outline or self._type_of(context["exc"])
            for key in ("traceback", "args", "kwargs"):
                if key in context:
                    context[key] = "[hidden]"
            record.args = context
            if isinstance(getattr(record, "data", None), dict):
                record.data = context
        else:
            if isinstance(record.msg, BaseException):  # logger.error(error)
                record.msg = exception_outline(_unwrap(record.msg))
            if isinstance(record.args, tuple):
                # "Task handler raised error: %r": the exception named, not quoted.
                record.args = tuple(
                    type(_unwrap(a)).__name__ if isinstance(a, BaseException) else a for a in record.args
                )
            if outline is not None:
                note = f" ({outline})"
                record.msg = f"{record.msg}{note.replace('%', '%%') if record.args else note}"
        record.exc_info = None
        record.exc_text = None
        record.exception_hidden = True
        return True

    def _type_of(self, text: object) -> str:
        match = self.celery_type.match(str(text or ""))
        return match.group(1) if match else "[hidden]"
