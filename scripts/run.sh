#!/usr/bin/env bash
# Run Provision Map locally: install, bring up PostgreSQL and Redis, migrate, seed the demo
# LA, then serve the web app with a Celery worker and beat. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
source scripts/services.sh
export DEBUG="${DEBUG:-1}"
if [ -z "${SECRET_KEY:-}" ]; then
  [ -s .run/secret_key ] || .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(50))" > .run/secret_key
  SECRET_KEY="$(cat .run/secret_key)"
  export SECRET_KEY
fi
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py seed_demo
.venv/bin/celery -A provisionmap worker --loglevel=INFO --concurrency=2 >.run/worker.log 2>&1 &
WORKER=$!
.venv/bin/celery -A provisionmap beat --loglevel=INFO --schedule=.run/celerybeat-schedule >.run/beat.log 2>&1 &
BEAT=$!
trap 'kill $WORKER $BEAT 2>/dev/null || true' EXIT INT TERM
echo "Provision Map on http://127.0.0.1:${PORT:-8000}/ (worker and beat logs in .run/)"
$PY manage.py runserver "127.0.0.1:${PORT:-8000}"
