#!/usr/bin/env bash
# Benchmarks at two sizes: the demo LA and one LA at scale, in one database of their own
# (pm_bench on the project's PostgreSQL unless BENCH_DATABASE_URL says otherwise). Writes
# docs/benchmarks.json and docs/benchmarks.md. Making the scale data takes minutes the first
# time; later runs find it there and reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
source scripts/services.sh
export DEBUG="${DEBUG:-1}" SECRET_KEY="${SECRET_KEY:-benchmarks-only}"
export DATABASE_URL="${BENCH_DATABASE_URL:-${DATABASE_URL%/*}/pm_bench}"
SCHOOLS="${SCALE_SCHOOLS:-120}" PUPILS="${SCALE_PUPILS:-500}" SEED="${SCALE_SEED:-1}"
.venv/bin/python - <<'PY'
import os, psycopg
url = os.environ["DATABASE_URL"]
base, name = url.rsplit("/", 1)
with psycopg.connect(base + "/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
PY
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo >/dev/null
.venv/bin/python manage.py generate_scale_data --schools "$SCHOOLS" --pupils-per-school "$PUPILS" --seed "$SEED" \
  || echo "(scale data for seed $SEED is there already: reusing it)"
.venv/bin/python manage.py bench --runs "${BENCH_RUNS:-20}"
