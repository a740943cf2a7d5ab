"""HTML to PDF with WeasyPrint, reaching nothing but the project's own static files.

User text reaches these PDFs (plan targets, narratives, notes). Whatever it names — an
image at `file:///etc/passwd`, a stylesheet at `http://127.0.0.1:6379/`, a redirect — the
fetcher here answers only for paths under the project's static files, read from disk by
Django's static finders, and refuses the rest; WeasyPrint's own fetcher is never used, so
there is no network, no `file://` and no redirect to follow (SECURITY.md 21).
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# The base every relative URL in a report resolves against: a name that no network can answer
# (`.invalid` is reserved), served by the fetcher below from disk; nothing else is fetched.
STATIC_HOST = "static.provisionmap.invalid"
BASE_URL = f"https://{STATIC_HOST}/"


class RefusedResource(ValueError):
    """A PDF asked for something outside the project's static files."""


def static_file(url: str) -> tuple[bytes, str]:
    """The bytes and type of a project static file named by a report URL, or a refusal."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.scheme != "https" or parts.netloc != STATIC_HOST or parts.query:
        raise RefusedResource(f"Reports fetch only the project's static files, not {url[:60]!r}.")
    static = "/" + settings.STATIC_URL.strip("/") + "/"
    relative = path[len(static) :] if path.startswith(static) else path.lstrip("/")
    if not relative or ".." in Path(relative).parts:
        raise RefusedResource("Reports fetch only the project's static files.")
    found = finders.find(relative)
    if not found:
        raise RefusedResource("No such static file.")
    return Path(found).read_bytes(), mimetypes.guess_type(relative)[0] or "application/octet-stream"


def static_only_fetcher():
    """A WeasyPrint fetcher that serves `static_file` and opens nothing else: it never
    reaches the parent class's opener (network, files, redirects)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("https",), allow_redirects=False)

        def fetch(self, url, headers=None):
            data, mime = static_file(url)
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    return StaticOnly()


def render_pdf(template: str, context: dict) -> tuple[bytes, int]:
    """Render a report template to a tagged PDF (PDF/UA); returns the bytes and page count."""
    return html_to_pdf(render_to_string(template, context))


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """The one place WeasyPrint reads HTML: always with the static-only fetcher."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=BASE_URL, url_fetcher=static_only_fetcher()).render()
    pdf = document.write_pdf(pdf_variant="pdf/ua-1", uncompressed_pdf=False)
    return pdf, len(document.pages)
