#!/bin/sh
# Sets everything up and serves the API on the embedded SQLite database, through gunicorn with
# the Procfile's configuration and code reload, on $PORT (default 8000).
set -eu
cd "$(dirname "$0")/.."
. scripts/setup.sh

# The development configuration: .env, written once from .env.example with fresh random secrets
# and never overwritten. Settings read it in every process (manage.py, gunicorn), so a new
# shell in the checkout needs nothing exported.
DOTENV_FILE="${DOTENV_FILE:-$PWD/.env}"
export DOTENV_FILE
if [ ! -e "$DOTENV_FILE" ]; then
    secret() { "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))'; }
    (
        umask 077
        sed -e "s|^DJANGO_DEBUG=.*|DJANGO_DEBUG=true|" \
            -e "s|^DJANGO_SECRET_KEY=.*|DJANGO_SECRET_KEY=$(secret)|" \
            -e "s|^BETTER_AUTH_SECRET=.*|BETTER_AUTH_SECRET=$(secret)|" \
            .env.example > "$DOTENV_FILE.new"
    )
    mv "$DOTENV_FILE.new" "$DOTENV_FILE"
    echo "Wrote $DOTENV_FILE with fresh development secrets (yours to edit; run.sh never overwrites it)."
fi
PORT="${PORT:-8000}"

"$VENV/bin/python" manage.py migrate --noinput
token=$("$VENV/bin/python" manage.py devtoken dev-user --email dev@example.com --name "Dev User")
cat <<MSG

The API is starting on http://127.0.0.1:$PORT. Try it (token valid for an hour;
'.venv/bin/python manage.py devtoken <user_id>' mints another, from any shell in this checkout):

  curl -s http://127.0.0.1:$PORT/api/tasks -H "Authorization: Bearer $token" \\
       -H "Content-Type: application/json" -d '{"title": "Try the API"}'
  curl -s http://127.0.0.1:$PORT/api/tasks -H "Authorization: Bearer $token"

MSG
# The Procfile's server and configuration; only where it listens and the reload differ.
exec "$VENV/bin/gunicorn" todo_project.wsgi --config gunicorn.conf.py --bind "127.0.0.1:$PORT" --reload
