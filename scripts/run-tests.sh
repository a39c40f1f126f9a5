#!/usr/bin/env bash
# Start PostgreSQL, run lint and the whole pytest suite, stop PostgreSQL.
# (tests/test_deployment.py starts and stops its own nginx, Redis and gunicorn instances.)
set -euo pipefail
cd "$(dirname "$0")/.."
PARLEY_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
export PARLEY_TEST_POSTGRES_URL
trap 'scripts/postgres.sh stop' EXIT
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -p no:cacheprovider "$@"
