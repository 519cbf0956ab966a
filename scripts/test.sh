#!/bin/sh
# Sets everything up and runs the test suite; extra arguments go to pytest.
# DATABASE_URL picks the database (default: SQLite); PYTHON and VENV the interpreter (scripts/setup.sh).
set -eu
cd "$(dirname "$0")/.."
requirements=requirements-dev.txt
. scripts/setup.sh

# The suite runs with DEBUG off, as production does, so it needs non-default secrets.
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-test-only-secret-key-0123456789abcdefghijklmnop}"
export BETTER_AUTH_SECRET="${BETTER_AUTH_SECRET:-test-only-better-auth-secret-0123456789abcdef}"
export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-testserver,localhost,127.0.0.1}"
# Production refuses to guess these (settings.py); the suite names its own.
export DATABASE_URL="${DATABASE_URL:-sqlite:///$PWD/db.sqlite3}"
export BETTER_AUTH_URL="${BETTER_AUTH_URL:-http://localhost:3000}"
export CORS_ALLOWED_ORIGINS="${CORS_ALLOWED_ORIGINS-http://localhost:3000}"
# The test client speaks plain http; a redirect to https would answer every request.
export DJANGO_SECURE_SSL_REDIRECT="${DJANGO_SECURE_SSL_REDIRECT:-false}"
exec "$VENV/bin/python" -m pytest "$@"
