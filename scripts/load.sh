#!/usr/bin/env bash
# A bounded load test on this machine: gunicorn and a Celery worker over the demo data, and
# locust driving a Monday morning (loadtest/locustfile.py) with LOAD_USERS simulated users
# (50) for LOAD_TIME (2m). Writes the figures into docs/benchmarks.json and .md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh "test,load"
source scripts/services.sh
export DEBUG="${DEBUG:-1}" SECRET_KEY="${SECRET_KEY:-load-test-only}"
export DATABASE_URL="${LOAD_DATABASE_URL:-${DATABASE_URL%/*}/pm_load}"
PORT="${LOAD_PORT:-8765}" USERS="${LOAD_USERS:-50}" TIME="${LOAD_TIME:-2m}"
.venv/bin/python - <<'PY'
import os, psycopg
base, name = os.environ["DATABASE_URL"].rsplit("/", 1)
with psycopg.connect(base + "/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
PY
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo --json > .run/load-credentials.json
.venv/bin/celery -A provisionmap worker --loglevel=WARNING --concurrency=1 >.run/load-worker.log 2>&1 &
WORKER=$!
.venv/bin/gunicorn provisionmap.wsgi --bind "127.0.0.1:$PORT" --workers 3 --access-logfile - \
  >.run/load-web.log 2>&1 &
WEB=$!
trap 'kill $WORKER $WEB 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
LOAD_CREDENTIALS=.run/load-credentials.json .venv/bin/locust -f loadtest/locustfile.py --headless \
  -u "$USERS" -r 10 -t "$TIME" --host "http://127.0.0.1:$PORT" --csv .run/load --only-summary \
  --exit-code-on-error 0 2>&1 | tail -n 40
.venv/bin/python manage.py record_load .run/load_stats.csv --users "$USERS" --time "$TIME" \
  --web-log .run/load-web.log
