# Provision Map: one image for the web app (gunicorn), the Celery worker and beat, and the
# one-shot migrate step. docker-compose.yml picks the command for each.
#
# Debian 12 (bookworm): the release our development and CI machines run, so the system
# libraries below are the versions the test suite uses.
FROM python:3.11-slim-bookworm

# The code runs from /app, not from the copy `pip install .` puts in site-packages:
# settings.py finds templates/ and static/ beside the source tree (BASE_DIR), and the wheel
# carries Python modules only. PYTHONPATH puts /app ahead of site-packages for gunicorn,
# celery and manage.py alike. STATIC_ROOT must be the same at build and at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media

# WeasyPrint's system libraries (Pango with its FreeType backend, HarfBuzz's subsetter for
# embedding fonts) and one font family, since the slim image ships none.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a home of its own (gunicorn keeps its control socket there).
RUN groupadd --system --gid 10001 provisionmap \
    && useradd --system --uid 10001 --gid provisionmap --create-home --home-dir /home/provisionmap \
        --shell /usr/sbin/nologin provisionmap

WORKDIR /app

# Named one by one rather than `COPY . .`, so a developer's .venv, .run (the local database
# cluster and its secret key) and .git never reach the image. A new app directory needs a
# line here.
COPY pyproject.toml manage.py ./
COPY provisionmap/ provisionmap/
COPY schools/ schools/
COPY pupils/ pupils/
COPY graduated_response/ graduated_response/
COPY interventions/ interventions/
COPY reports/ reports/
COPY templates/ templates/
COPY static/ static/

RUN pip install . \
    && rm -rf build ./*.egg-info

# Hashed, compressed static files for WhiteNoise. Settings refuse to load without a
# SECRET_KEY, so this step gets a throwaway one that exists only for this command; nothing
# here touches the database or Redis.
RUN SECRET_KEY="collectstatic-at-build-time-only-$(date +%s)" python manage.py collectstatic --noinput

# Uploaded and generated files (PDFs later) live on a volume mounted here.
RUN mkdir -p /data/media && chown provisionmap:provisionmap /data/media

USER provisionmap

EXPOSE 8000

# docker-compose.yml repeats this command with a worker count (WEB_WORKERS there).
# No access log by default: request lines are the operator's to log, scrubbed, if wanted.
CMD ["gunicorn", "provisionmap.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--graceful-timeout", "25"]
