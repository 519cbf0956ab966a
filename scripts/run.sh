#!/bin/sh
# Sets everything up and runs the development server on the embedded SQLite database.
set -eu
cd "$(dirname "$0")/.."
. scripts/setup.sh

export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"
export BETTER_AUTH_SECRET="${BETTER_AUTH_SECRET:-development-only-secret-change-me-0123456789}"
PORT="${PORT:-8000}"

.venv/bin/python manage.py migrate --noinput
token=$(.venv/bin/python manage.py devtoken dev-user --email dev@example.com --name "Dev User")
cat <<MSG

The API is starting on http://127.0.0.1:$PORT. Try it (token valid for an hour;
'.venv/bin/python manage.py devtoken <user_id>' mints another):

  curl -s http://127.0.0.1:$PORT/api/tasks -H "Authorization: Bearer $token" \\
       -H "Content-Type: application/json" -d '{"title": "Try the API"}'
  curl -s http://127.0.0.1:$PORT/api/tasks -H "Authorization: Bearer $token"

MSG
exec .venv/bin/python manage.py runserver "127.0.0.1:$PORT"
