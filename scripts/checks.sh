#!/usr/bin/env bash
# The API fuzzing and fault tests (with the report tasks' own: redelivery, leases, limits), recorded in docs/benchmarks.md (record_checks). The same
# tests run in `make test`; this runs only them and writes their results down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
source scripts/services.sh
export DEBUG="${DEBUG:-1}" SECRET_KEY="${SECRET_KEY:-checks-only}"
mkdir -p .run
status=0
.venv/bin/python -m pytest -q -s -p no:cacheprovider --junitxml=.run/checks.xml \
  tests/test_api_fuzz.py tests/test_faults.py tests/test_report_tasks.py 2>&1 | tee .run/checks.txt || status=$?
.venv/bin/python manage.py record_checks .run/checks.xml .run/checks.txt
exit "$status"
