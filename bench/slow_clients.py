"""How long other clients wait while slow senders trickle their requests, on the Procfile's server.

    .venv/bin/python bench/slow_clients.py [--senders 8] [--every 4] [--seconds 20]

Starts gunicorn as the Procfile does (gunicorn.conf.py, 2 workers, DEBUG off, a fresh SQLite file
unless DATABASE_URL names a migrated database), opens `--senders` connections, half sending a header line and half one
byte of a chunked POST body every `--every` seconds (no token needed for either), and times a
/healthz request and a signed-in list every 0.25 s meanwhile. Prints the delays and how many
senders the server dropped. Not part of the test suite (tests/test_gunicorn.py checks the
bound).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# This process only mints a token (tests.auth); the server gets its own production settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")
__import__("django").setup()

from tests.live import call, new_user_token, start_gunicorn  # noqa: E402
from tests.test_gunicorn import CHUNKED_BODY_TRICKLE, HEADERS_TRICKLE, SlowSender  # noqa: E402


def timed(request) -> float:
    started = time.monotonic()
    try:
        request()
    except OSError:
        return float("inf")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--every", type=float, default=4.0, help="seconds between a sender's pieces")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure")
    args = parser.parse_args()

    from tests.auth import ORIGIN, SECRET

    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE")},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "BETTER_AUTH_SECRET": SECRET,
        "BETTER_AUTH_URL": ORIGIN,
        "CORS_ALLOWED_ORIGINS": ORIGIN,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_READ_RATE": "100000/min",
    }
    if "DATABASE_URL" not in env:
        env["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='slow-clients-')}/db.sqlite3"
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    server = start_gunicorn("todo_project.wsgi", env)
    try:
        _, token = new_user_token()
        assert call(server.port, "GET", "/api/tasks", token=token).status == 200  # the workers are up
        trickles = [HEADERS_TRICKLE, CHUNKED_BODY_TRICKLE]
        senders = [SlowSender(server.port, trickles[i % 2], every=args.every) for i in range(args.senders)]
        for sender in senders:
            sender.start()
        time.sleep(min(args.every, 2))
        health, lists = [], []
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            health.append(
                timed(lambda: urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=10).read())
            )
            lists.append(timed(lambda: call(server.port, "GET", "/api/tasks", token=token, timeout=10)))
            time.sleep(0.25)
        dropped = sum(sender.dropped_at is not None for sender in senders)
        for sender in senders:
            sender.stop()
    finally:
        server.stop()
    for name, delays in (("/healthz", health), ("/api/tasks (signed in)", lists)):
        finite = sorted(d for d in delays if d != float("inf"))
        failed = len(delays) - len(finite)
        median = f"{statistics.median(finite) * 1000:.0f} ms" if finite else "-"
        worst = f"{finite[-1] * 1000:.0f} ms" if finite else "-"
        print(f"{name}: {len(delays)} requests, median {median}, max {worst}, {failed} timed out (10 s)")
    print(f"{dropped} of {args.senders} slow senders dropped by the server during the run")


if __name__ == "__main__":
    main()
