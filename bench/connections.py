"""How much a database connection per request costs, against persistent connections and a pool.

    .venv/bin/python bench/connections.py [--database postgres://postgres@127.0.0.1:5432/todo_admin_bench] [--requests 300]

Serves Alice's first page of tasks through Django's test client (each request opens and closes
its connections as under gunicorn) with DATABASE_CONN_MAX_AGE=0 (a new connection each
request), 60 (persistent, health-checked: commands and tests) and Django's psycopg pool as the
web process configures it (DATABASE_POOL_MAX_SIZE, gunicorn.conf.py). Each mode runs in its own
process.
Not part of the test suite; the database needs the schema (bench/admin_pages.py makes one).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "new connection per request (CONN_MAX_AGE=0)": {"DATABASE_CONN_MAX_AGE": "0", "DATABASE_POOL_MAX_SIZE": "0"},
    "persistent, health-checked (CONN_MAX_AGE=60)": {"DATABASE_CONN_MAX_AGE": "60", "DATABASE_POOL_MAX_SIZE": "0"},
    "psycopg pool of 4 (the web process)": {"DATABASE_POOL_MAX_SIZE": "4"},
}


def serve(requests: int) -> dict:
    """Runs in the child process: times `requests` authenticated list requests."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    import django

    django.setup()
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.tokens import development_token

    alice, _ = User.objects.get_or_create(better_auth_id="bench-alice", defaults={"email": "alice@example.com"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {development_token(user_id=alice.better_auth_id, minutes=60)}")
    durations = []
    for _ in range(requests + 10):
        started = time.perf_counter()
        assert client.get("/api/tasks").status_code == 200
        durations.append((time.perf_counter() - started) * 1000)
    durations = sorted(durations[10:])  # after a warm-up
    return {"median": statistics.median(durations), "p95": durations[int(len(durations) * 0.95)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/todo_admin_bench")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="modes take turns; the best round counts")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(args.requests)))
        return
    base = {
        **os.environ,
        "DATABASE_URL": args.database,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
    }
    base.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    base.setdefault("BETTER_AUTH_SECRET", "bench-only-better-auth-secret-0123456789abcdef")
    base.setdefault("BETTER_AUTH_URL", "http://localhost:3000")
    base.setdefault("CORS_ALLOWED_ORIGINS", "http://localhost:3000")
    # Modes take turns, so a busy moment on the machine does not land on one mode only.
    best: dict[str, dict] = {}
    for _ in range(args.rounds):
        for label, env in MODES.items():
            result = subprocess.run(
                [sys.executable, __file__, "--serve", "--requests", str(args.requests)],
                env={**base, **env},
                capture_output=True,
                text=True,
            )
            if result.returncode:
                sys.exit(f"{label}: {result.stderr.strip().splitlines()[-1]}")
            timing = json.loads(result.stdout.strip().splitlines()[-1])
            if label not in best or timing["median"] < best[label]["median"]:
                best[label] = timing
    print("| connections | median ms | p95 ms |\n|---|---:|---:|")
    for label, timing in best.items():
        print(f"| {label} | {timing['median']:.1f} | {timing['p95']:.1f} |")


if __name__ == "__main__":
    main()
