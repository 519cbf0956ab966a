#!/usr/bin/env bash
# End to end: the example Next.js + Better Auth app (examples/nextjs) in production mode, this API
# as the Procfile runs it on PostgreSQL, and headless Chromium driving both like a person would.
# Prints one line per step and a final "N passed, M failed"; exits non-zero on any failure.
#
# E2E_DATABASE_URL: the API's PostgreSQL database, dropped and created afresh on every run
#   (default postgres://postgres@127.0.0.1:5432/todo_e2e); Better Auth gets its own next to it
#   (the same name with an _auth suffix).
# Screenshots of failed steps land in examples/nextjs/e2e-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_STARTED_AT=$(date +%s)
database_url=${E2E_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/todo_e2e}
auth_database_url=${database_url}_auth

work=$(mktemp -d)
pids=()
summary_printed=false
stop_everything() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true # each service runs in its own process group
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ] && ! $summary_printed; then
        echo "e2e: setup failed (exit $status); the last lines of the logs:" >&2
        tail -n 20 "$work"/*.log >&2 2>/dev/null || true
        echo "0 passed, 1 failed"
    fi
    rm -rf "$work"
}
trap stop_everything EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # url, what
    for _ in $(seq 120); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.5
    done
    echo "e2e: $2 did not answer at $1" >&2
    return 1
}

app_port=$(free_port)
api_port=$(free_port)
app_url=http://127.0.0.1:$app_port
api_url=http://127.0.0.1:$api_port
# Better Auth's secret (the API needs one too, in production mode); tokens live 10 s so the run
# can watch them expire.
better_auth_secret=e2e-only-better-auth-secret-0123456789abcdef
token_lifetime_seconds=10

echo "=== e2e: npm ci, next build"
(
    cd examples/nextjs
    export NEXT_TELEMETRY_DISABLED=1 CI="${CI:-true}"
    # The one install script in the tree compiles better-sqlite3, the driver for Better Auth's
    # default SQLite file; it takes minutes here, and this run keeps Better Auth in PostgreSQL.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    # The API's address is compiled into the browser bundle. The build loads the auth module,
    # which opens (but does not use) Better Auth's database.
    BETTER_AUTH_SECRET=$better_auth_secret DATABASE_URL=$auth_database_url NEXT_PUBLIC_API_URL=$api_url \
        npm run build >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
)
echo "    $(($(date +%s) - E2E_STARTED_AT)) s"

echo "=== e2e: Better Auth's database, the API's database"
create_database() { # url
    PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "${1%/*}/postgres" \
        -c "DROP DATABASE IF EXISTS \"${1##*/}\" WITH (FORCE)" -c "CREATE DATABASE \"${1##*/}\""
}
create_database "$database_url"
create_database "$auth_database_url"
export BETTER_AUTH_SECRET=$better_auth_secret
(
    cd examples/nextjs
    DATABASE_URL=$auth_database_url BETTER_AUTH_URL=$app_url BETTER_AUTH_TELEMETRY=0 \
        npm run --silent migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
)

. scripts/setup.sh
# Only what is set here, never a developer's .env (DOTENV_FILE empty). No clock leeway: a token
# is refused the moment it expires, which the expiry steps rely on.
export DOTENV_FILE= \
    DATABASE_URL=$database_url \
    DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=e2e-only-django-secret-key-0123456789abcdefghijklmnop \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 \
    DJANGO_SECURE_SSL_REDIRECT=false \
    BETTER_AUTH_URL=$app_url \
    CORS_ALLOWED_ORIGINS=$app_url \
    BETTER_AUTH_LEEWAY_SECONDS=0 \
    PORT=$api_port
.venv/bin/python manage.py migrate --noinput >"$work/api-migrate.log" # the Procfile's release phase

echo "=== e2e: starting the app on $app_url and the API on $api_url"
(
    cd examples/nextjs
    DATABASE_URL=$auth_database_url BETTER_AUTH_URL=$app_url \
        BETTER_AUTH_JWT_EXPIRATION=${token_lifetime_seconds}s NEXT_TELEMETRY_DISABLED=1 \
        exec setsid node_modules/.bin/next start --hostname 127.0.0.1 --port "$app_port"
) >"$work/app.log" 2>&1 &
pids+=($!)
setsid .venv/bin/gunicorn todo_project.wsgi --config gunicorn.conf.py >"$work/api.log" 2>&1 &
pids+=($!)
wait_for "$app_url/api/auth/jwks" "the app"
wait_for "$api_url/readyz" "the API"

echo "=== e2e: the scenario in headless Chromium"
status=0
(
    cd examples/nextjs
    APP_URL=$app_url API_URL=$api_url API_LOG=$work/api.log TOKEN_LIFETIME_SECONDS=$token_lifetime_seconds \
        E2E_STARTED_AT=$E2E_STARTED_AT node e2e/scenario.mjs
) | tee "$work/scenario.out" || status=$?
summary_printed=true
if [ "$status" -ne 0 ]; then
    echo "--- the API's log"; tail -n 30 "$work/api.log"
    echo "--- the app's log"; tail -n 30 "$work/app.log"
    # The summary stays the last line (the scenario's, or one for a scenario that never got to it).
    tail -n 1 "$work/scenario.out" | grep -E '^[0-9]+ passed, [0-9]+ failed' || echo "0 passed, 1 failed"
fi
exit "$status"
