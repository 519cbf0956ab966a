"""CPU per request in this process: the API's WSGI app next to the baseline's, no server, no wrk.

    .venv/bin/python -m bench.inprocess                 # ms per request, both apps, and the ratio
                                                      # ("me": a warm /api/me, the framework's floor)
    .venv/bin/python -m bench.inprocess --cprofile list # plus where the API's time goes

It creates and seeds its own small database (`bench_profile`, kept for the next run unless
`--fresh`) with the same settings `bench/run.py` gives the servers (DEBUG off, Redis throttle
counters when Redis answers). Each scenario calls both apps alternately in batches and reports
the median batch. The figures are the Python side of what wrk measures: with the load generator
and PostgreSQL on other cores they bound the ratio a server run can reach.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run, seed  # noqa: E402

SCENARIOS = ["list", "get", "create", "toggle", "me", "changes"]
# Each user's cursor at the end of a full sync, for the `changes` scenario (an unchanged poll).
CURSORS: dict[str, str] = {}
REDIS = "redis://127.0.0.1:6379/15"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_profile")
    parser.add_argument("--fresh", action="store_true", help="drop and seed the database again")
    parser.add_argument("--requests", type=int, default=200, help="requests per batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--cprofile", default="", help="a scenario to profile in the API; prints the top functions")
    parser.add_argument("--top", type=int, default=35)
    return parser.parse_args(argv)


def database_ready(server: str, name: str) -> bool:
    try:
        with psycopg.connect(f"{server}/{name}") as conn:
            return conn.execute("SELECT COUNT(*) FROM tasks_task").fetchone()[0] > 0
    except psycopg.Error:
        return False


def environ(method: str, path: str, token: str, body: bytes = b"") -> dict:
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_X_FORWARDED_PROTO": "https",
        "CONTENT_TYPE": "application/json" if body else "",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def requests_for(scenario: str, users: list[list[str]], n: int):
    """n (method, path, token, body) for a scenario, round robin over users as load.lua does."""
    for i in range(n):
        token, *ids = users[i % len(users)]
        task = ids[(i // len(users)) % len(ids)]
        if scenario == "list":
            yield "GET", "/api/tasks?limit=50", token, b""
        elif scenario == "get":
            yield "GET", f"/api/tasks/{task}", token, b""
        elif scenario == "create":
            yield "POST", "/api/tasks", token, orjson.dumps({"title": f"Profiled task {i}", "priority": "low"})
        elif scenario == "toggle":
            yield "PATCH", f"/api/tasks/{task}/complete", token, b"{}"
        elif scenario == "me":  # the framework's floor: no task work at all
            yield "GET", "/api/me", token, b""
        elif scenario == "changes":  # a poll of an unchanged feed
            yield "GET", f"/api/changes?cursor={quote(CURSORS[token], safe='')}", token, b""


def call(app, method: str, path: str, token: str, body: bytes) -> str:
    status = []
    chunks = app(environ(method, path, token, body), lambda s, h, exc_info=None: status.append(s))
    payload = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    if not status[0].startswith("2"):
        raise SystemExit(f"{method} {path}: {status[0]} {payload[:300]!r}")
    return status[0]


def sync_to_the_end(app, token: str) -> str:
    """The cursor a full sync through the change feed ends at."""
    cursor, more = "", True
    while more:
        chunks = app(environ("GET", f"/api/changes?limit=1000{cursor}", token), lambda s, h, exc_info=None: None)
        page = orjson.loads(b"".join(chunks))
        cursor, more = f"&cursor={quote(page['next_cursor'], safe='')}", page["has_more"]
    return page["next_cursor"]


def batch_ms(app, scenario: str, users, n: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per request (CPU leaves out the waits on PostgreSQL and Redis)."""
    work = list(requests_for(scenario, users, n))
    started, cpu_started = time.perf_counter(), time.process_time()
    for request in work:
        call(app, *request)
    return (time.perf_counter() - started) * 1000 / n, (time.process_time() - cpu_started) * 1000 / n


def measure(api, baseline, users, scenarios, *, requests: int = 200, batches: int = 5) -> dict:
    """Median wall and CPU ms per request of both apps, batches alternating, per scenario.

    The baseline has no `me` nor `changes` route: those scenarios time the API alone.
    """
    results = {}
    if "changes" in scenarios:
        for token, *_ in users:
            CURSORS[token] = sync_to_the_end(api, token)
    for scenario in scenarios:
        apps = {"api": api} if scenario in ("me", "changes") else {"api": api, "baseline": baseline}
        for app in apps.values():  # warm: user cache, connections, imports
            batch_ms(app, scenario, users, min(len(users), requests))
        runs = {name: [] for name in apps}
        for _ in range(batches):
            for name, app in apps.items():
                runs[name].append(batch_ms(app, scenario, users, requests))
        results[scenario] = {
            name: {"wall_ms": statistics.median(w for w, _ in r), "cpu_ms": statistics.median(c for _, c in r)}
            for name, r in runs.items()
        }
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    redis = REDIS if run.redis_answers(REDIS) else ""
    database_url = f"{args.postgres}/{args.database}"
    env = run.production_env(database_url, redis)
    dataset = seed.DATASETS["small"]
    fresh = args.fresh or not database_ready(args.postgres, args.database)
    if fresh:
        run.recreate_database(args.postgres, args.database)
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    os.environ["LOG_LEVEL"] = "WARNING"
    import subprocess

    run.setup_django(env)
    if fresh:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=os.environ,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seed.seed(database_url, dataset)
    max_seeded = seed.seeded_max_task_id(database_url)
    users_path = ROOT / "bench" / "results" / "profile-users.txt"
    users_path.parent.mkdir(parents=True, exist_ok=True)
    seed.users_file(database_url, dataset, users_path, token_for=run.token_for)
    users = [line.split() for line in users_path.read_text().splitlines()]

    os.environ["BETTER_AUTH_SECRET"] = env["BETTER_AUTH_SECRET"]
    from bench import baseline
    from todo_project.wsgi import application as api

    print(
        f"{'scenario':<9} {'api ms':>8} {'baseline ms':>12} {'ratio':>7}   {'api CPU ms':>10} {'baseline CPU ms':>15} {'ratio':>7}"
    )
    try:
        results = measure(
            api, baseline.application, users, args.scenarios.split(","), requests=args.requests, batches=args.batches
        )
        for scenario, figures in results.items():
            ours, theirs = figures["api"], figures.get("baseline")
            if theirs is None:
                print(f"{scenario:<9} {ours['wall_ms']:>8.2f} {'':>12} {'':>7}   {ours['cpu_ms']:>10.2f}")
                continue
            print(
                f"{scenario:<9} {ours['wall_ms']:>8.2f} {theirs['wall_ms']:>12.2f} {theirs['wall_ms'] / ours['wall_ms']:>7.2f}   "
                f"{ours['cpu_ms']:>10.2f} {theirs['cpu_ms']:>15.2f} {theirs['cpu_ms'] / ours['cpu_ms']:>7.2f}"
            )
        if args.cprofile:
            profiler = cProfile.Profile()
            work = list(requests_for(args.cprofile, users, args.requests * args.batches))
            profiler.enable()
            for request in work:
                call(api, *request)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())
    finally:
        seed.forget_writes(database_url, max_seeded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
