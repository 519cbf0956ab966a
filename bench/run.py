"""The API under load next to a no-framework baseline, on a fresh PostgreSQL database.

Run it through ./bench/run.sh (which installs wrk and the plotting package). Steps: create the
database, run the Procfile's release command, seed through COPY, mint tokens, start the
Procfile's web command and the baseline (bench/baseline.py) under the same gunicorn config,
drive both with wrk in turn (A B, B A, A B, ..., median of the rounds), then print a table and write
report.md, latency.png and results.json. Absolute figures depend on the machine; the ratios
to the baseline are the result.
"""

import argparse
import json
import os
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report, seed  # noqa: E402

SCENARIOS = ["list", "list_in_list", "get", "create", "toggle", "mixed"]
WRITES = {"create", "mixed"}  # scenarios that add tasks, removed again after each run


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds end to end on tiny data; checks it works, times nothing"
    )
    parser.add_argument(
        "--data",
        choices=list(seed.DATASETS),
        default="small",
        help="small: 200 users x 50 tasks; large: 1,000,000 tasks",
    )
    parser.add_argument("--concurrency", default="8,32,128", help="wrk connections, comma-separated")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per server and cell, interleaved; the median is reported"
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--connections", type=int, default=2000, help="keep-alive connections for the connection test (0 skips it)"
    )
    parser.add_argument(
        "--think-ms",
        default="1000,3000;4000,8000",
        help="connection test: each connection waits this long (min,max ms) between requests; several ranges, ';'-separated, "
        "each a run (2,000 connections offer about 1,000 req/s at 1-3 s, 330 at 4-8 s)",
    )
    parser.add_argument(
        "--soak", type=int, default=0, help="seconds of mixed load at 32 connections, sampling worker RSS"
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN every list/filter query (always on with --data large)"
    )
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, a user that may create databases"
    )
    parser.add_argument(
        "--database", default=None, help="database name (default bench_<data>); dropped and created afresh"
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/15",
        help="REDIS_URL for the API's throttle counters, as instances share them in production; empty: the database cache",
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="another checkout of this project (with its own .venv) served in the baseline's place: "
        "an A/B of two commits, ratios this checkout's over that one's",
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="report folder (default bench/results/<time>)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.data, args.concurrency, args.duration, args.rounds = "smoke", "4", 1, 1
        args.connections, args.think_ms, args.soak = 50, "100,300;200,400", 0
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.scenarios = args.scenarios.split(",")
    args.think_ms = [tuple(int(ms) for ms in pair.split(",")) for pair in args.think_ms.split(";") if pair]
    args.postgres = args.postgres.rstrip("/")
    args.database = args.database or f"bench_{args.data}"
    args.out = args.out or ROOT / "bench" / "results" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.explain = args.explain or args.data == "large"
    if args.redis and not redis_answers(args.redis):
        print(f"== no Redis answers at {args.redis}: throttle counters go to the database cache", file=sys.stderr)
        args.redis = ""
    return args


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


# Budgets no benchmark user can spend: every request still counts against them (a Redis INCR
# each, the production cost), but none is answered 429, which would measure a cheaper answer.
UNSPENDABLE_RATES = {
    "THROTTLE_READ_RATE": "10000000/min",
    "THROTTLE_WRITE_RATE": "10000000/min",
    "THROTTLE_ANON_RATE": "10000000/min",
}


def production_env(database_url: str, redis_url: str = "") -> dict[str, str]:
    """The environment the Procfile's processes get: DEBUG off, real secrets, PostgreSQL, Redis."""
    # Only the caller's gunicorn knobs (WEB_CONCURRENCY, GUNICORN_THREADS, ...) carry over.
    prefixes = ("DJANGO_", "BETTER_AUTH_", "DATABASE_", "LOG_", "REDIS_", "THROTTLE_")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env = {
        **inherited,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "BETTER_AUTH_SECRET": secrets.token_urlsafe(48),
        "BETTER_AUTH_URL": "http://localhost:3000",
        "CORS_ALLOWED_ORIGINS": "http://localhost:3000",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        **UNSPENDABLE_RATES,
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    # The API's request-log line per request stays on, as in production.
    return env


def procfile(kind: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"The Procfile has no {kind} process.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """A gunicorn started from a Procfile-style command line, with its workers' memory at hand."""

    def __init__(self, name: str, command: str, env: dict, port: int, log: Path, cwd: Path = ROOT):
        self.name, self.port = name, port
        self.log = log.open("w")
        self.process = subprocess.Popen(
            shlex.split(command),
            cwd=cwd,
            env={**env, "PORT": str(port)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start; see {log}")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}/healthz", headers={"X-Forwarded-Proto": "https"}
            )
            with urllib.request.urlopen(request, timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                pass  # a worker recycled between listing and reading
        return sizes

    def get(self, path: str, token: str) -> bytes:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class RssSampler:
    """Samples a server's worker RSS in the background while a load runs."""

    def __init__(self, server: Server, every: float = 0.5):
        self.server, self.every, self.samples = server, every, []
        self.first_pids: set[int] = set()  # the workers when the load began
        self.pids: set[int] = set()  # every worker seen: the ones beyond the first were recycled in
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            pids = self.server.worker_pids()
            if not self.first_pids:
                self.first_pids.update(pids)
            self.pids.update(pids)
            sizes = self.server.worker_rss_mb()
            if sizes:
                self.samples.append((time.monotonic() - started, max(sizes)))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> float:
        return max((rss for _, rss in self.samples), default=0.0)


def wrk(
    server: Server,
    scenario: str,
    users: Path,
    *,
    connections: int,
    duration: float,
    think: tuple[int, int] | None = None,
    timeout: int = 5,
) -> dict:
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout}s",
        "-s",
        str(ROOT / "bench" / "load.lua"),
        f"http://127.0.0.1:{server.port}",
        "--",
        scenario,
        str(users),
    ]
    if think:
        command += [str(think[0]), str(think[1])]
    with RssSampler(server) as rss:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    line = next((line for line in finished.stdout.splitlines() if line.startswith("BENCH ")), None)
    if finished.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    result = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout"))
    result["rss_mb"] = rss.peak
    result["rss_samples"] = rss.samples
    result["worker_recycles"] = len(rss.pids - rss.first_pids)
    return result


def median_run(runs: list[dict]) -> dict:
    """Each figure's median over the rounds; error counts are summed."""
    merged = {
        key: statistics.median(run[key] for run in runs)
        for key in ("rps", "p50_us", "p90_us", "p99_us", "max_us", "rss_mb")
    }
    for key in ("errors", "status", "timeout", "requests"):
        merged[key] = sum(run[key] for run in runs)
    merged["runs"] = [{k: v for k, v in run.items() if k != "rss_samples"} for run in runs]
    return merged


def _tasks_in(body: bytes) -> list[dict]:
    data = json.loads(body)
    return data if isinstance(data, list) else [data]


def check_same_json(app: Server, baseline: Server, token: str, task_id: str, *, other_commit: bool) -> list[str]:
    """The two servers must answer the same bytes, or the ratios compare different work. Another
    commit of the project (`--against`) may show fields this one does not, or the other way
    round: the tasks must agree on the fields both show, and the others are printed."""
    problems = []
    for path in ("/api/tasks?limit=50", f"/api/tasks/{task_id}"):
        ours, theirs = app.get(path, token), baseline.get(path, token)
        if other_commit and ours != theirs:
            mine, other = _tasks_in(ours), _tasks_in(theirs)
            here, there = set(mine[0]) if mine else set(), set(other[0]) if other else set()
            if here != there:
                print(f"== {path}: fields only here {sorted(here - there)}, only there {sorted(there - here)}")
            shared = here & there
            if [{k: t[k] for k in shared} for t in mine] == [{k: t[k] for k in shared} for t in other]:
                continue
        if ours != theirs:
            problems.append(
                f"{path}: the API and the baseline answer different JSON\n  api:      {ours[:300]!r}\n  baseline: {theirs[:300]!r}"
            )
    return problems


def setup_django(env: dict) -> None:
    """Django in this process, on the benchmark database, to mint tokens and EXPLAIN the API's queries."""
    for name in (
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "BETTER_AUTH_SECRET",
        "BETTER_AUTH_URL",
        "CORS_ALLOWED_ORIGINS",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
    ):
        os.environ[name] = env[name]
    for name in ("REDIS_URL", *UNSPENDABLE_RATES):  # the same throttle cache, so query counts match the server's
        if name in env:
            os.environ[name] = env[name]
    os.environ["DJANGO_SETTINGS_MODULE"] = "todo_project.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def token_for(user_id: str, email: str, name: str) -> str:
    from accounts.tokens import development_token

    return development_token(user_id=user_id, email=email, name=name, minutes=240)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dataset = seed.DATASETS[args.data]
    env = production_env(f"{args.postgres}/{args.database}", args.redis)
    print(f"== database {args.database}: {dataset.users:,} users, {dataset.total_tasks:,} tasks")
    recreate_database(args.postgres, args.database)
    servers: list[Server] = []
    try:
        # The build step a deployment runs once, then the Procfile's release command.
        manage = [sys.executable, "manage.py"]
        for checkout in filter(None, (ROOT, args.against)):
            subprocess.run(
                [*manage, "collectstatic", "--noinput"], cwd=checkout, env=env, check=True, stdout=subprocess.DEVNULL
            )
        subprocess.run(shlex.split(procfile("release")), cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        setup_django(env)
        seed.seed(env["DATABASE_URL"], dataset)
        users = args.out / "users.txt"
        seed.users_file(env["DATABASE_URL"], dataset, users, token_for=token_for)
        max_seeded = seed.seeded_max_task_id(env["DATABASE_URL"])

        web = procfile("web")
        app = Server("api", web, env, free_port(), args.out / "api-server.log")
        servers.append(app)
        if args.against:
            # The other checkout's own code and packages, on the same database and secrets.
            other_env = {**env, "PATH": f"{args.against / '.venv' / 'bin'}:{env['PATH']}"}
            baseline = Server(
                "baseline", web, other_env, free_port(), args.out / "baseline-server.log", cwd=args.against
            )
            print(f"== baseline: {args.against} at {git_commit(args.against)}")
        else:
            baseline = Server(
                "baseline",
                web.replace("todo_project.wsgi", "bench.baseline:application"),
                env,
                free_port(),
                args.out / "baseline-server.log",
            )
        servers.append(baseline)
        first_user = users.read_text().splitlines()[0].split()
        problems = check_same_json(app, baseline, first_user[0], first_user[1], other_commit=bool(args.against))
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        print("== the API and the baseline answer the same JSON bytes")

        for server in servers:  # imports, connections and caches warm before anything is measured
            wrk(server, "mixed", users, connections=8, duration=min(2, args.duration))
        seed.forget_writes(env["DATABASE_URL"], max_seeded)

        results: dict = {"cells": {}, "meta": meta(args, dataset)}
        cells = [(s, c) for s in args.scenarios for c in args.concurrency]
        for number, (scenario, connections) in enumerate(cells, 1):
            runs: dict[str, list] = {"api": [], "baseline": []}
            for round_number in range(args.rounds):
                # Turns alternate (A B, B A, ...), so neither server always runs right after the other.
                for server in servers if round_number % 2 == 0 else servers[::-1]:
                    runs[server.name].append(
                        wrk(server, scenario, users, connections=connections, duration=args.duration)
                    )
                    if scenario in WRITES:
                        seed.forget_writes(env["DATABASE_URL"], max_seeded)
            cell = {name: median_run(r) for name, r in runs.items()}
            results["cells"][f"{scenario}@{connections}"] = cell
            print(f"  [{number}/{len(cells)}] {report.cell_line(scenario, connections, cell)}")

        if dataset.big_user_tasks:
            big = args.out / "big-user.txt"
            seed.users_file(env["DATABASE_URL"], dataset, big, token_for=token_for, only_user=0)
            runs = {"api": [], "baseline": []}
            for _ in range(args.rounds):
                for server in servers:
                    runs[server.name].append(wrk(server, "list", big, connections=32, duration=args.duration))
            results["big_user"] = {name: median_run(r) for name, r in runs.items()}

        if dataset.big_user_tasks and not args.smoke and "list" in args.scenarios:
            results["scale"] = scale_check(args, env, app, users)

        if args.connections:
            # One run per think time: the first asks more of one instance than it serves (capacity),
            # the next a load it can serve, so what is left is holding the connections.
            results["connections"] = []
            for think in args.think_ms:
                run_result = {"think_ms": think, "count": args.connections}
                for server in servers:
                    duration = max(args.duration, 20) if not args.smoke else 2
                    run_result[server.name] = wrk(
                        server, "mixed", users, connections=args.connections, duration=duration, think=think
                    )
                    seed.forget_writes(env["DATABASE_URL"], max_seeded)
                results["connections"].append(run_result)

        if args.soak:
            soak = wrk(app, "mixed", users, connections=32, duration=args.soak)
            seed.forget_writes(env["DATABASE_URL"], max_seeded)
            results["soak"] = soak

        if args.explain:
            from bench import explain

            results["explain"] = explain.plans(dataset)
        results["queries"] = query_counts(first_user)

        # Where the time goes (after the query counts, which need a user's first request): each
        # app's CPU per request in this process, without a server, and a warm /api/me, the
        # framework's floor before any task work (bench/inprocess.py).
        from bench import baseline as baseline_app
        from bench import inprocess
        from todo_project.wsgi import application as api_app

        if not args.against:
            user_lines = [line.split() for line in users.read_text().splitlines()]
            size = {"requests": 20, "batches": 1} if args.smoke else {"requests": 200, "batches": 5}
            results["in_process"] = inprocess.measure(
                api_app, baseline_app.application, user_lines, inprocess.SCENARIOS, **size
            )
            seed.forget_writes(env["DATABASE_URL"], max_seeded)

        for server in servers:
            server.stop()
        servers.clear()
        report.write(results, args.out)
        print(report.table(results))
        print(f"\n== report: {args.out / 'report.md'}")
        return 0
    finally:
        for server in servers:
            server.stop()
        if not args.keep_database:
            drop_database(args.postgres, args.database)


def scale_check(args, env: dict, large_app: Server, large_users: Path) -> dict:
    """The scale target in one run: the list at 32 connections on this large data and on the
    small data, each served by the Procfile's web command, in turns (A B A B), medians."""
    small = seed.DATASETS["small"]
    name = f"{args.database}_small"
    small_env = {**env, "DATABASE_URL": f"{args.postgres}/{name}"}  # the same secrets, so the same tokens
    recreate_database(args.postgres, name)
    small_app = None
    try:
        subprocess.run(shlex.split(procfile("release")), cwd=ROOT, env=small_env, check=True, stdout=subprocess.DEVNULL)
        seed.seed(small_env["DATABASE_URL"], small)
        small_users = args.out / "small-users.txt"
        seed.users_file(small_env["DATABASE_URL"], small, small_users, token_for=token_for)
        small_app = Server(
            "api-small-data", procfile("web"), small_env, free_port(), args.out / "api-small-data-server.log"
        )
        wrk(small_app, "list", small_users, connections=8, duration=2)  # warm, as the others were
        runs: dict[str, list] = {"large": [], "small": []}
        for _ in range(args.rounds):
            runs["large"].append(wrk(large_app, "list", large_users, connections=32, duration=args.duration))
            runs["small"].append(wrk(small_app, "list", small_users, connections=32, duration=args.duration))
        return {key: median_run(value) for key, value in runs.items()}
    finally:
        if small_app is not None:
            small_app.stop()
        drop_database(args.postgres, name)


def query_counts(user_line: list[str]) -> dict:
    """Queries the API runs per request, cold (first request of a user) and warm."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    token, task_id = user_line[0], user_line[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FORWARDED_PROTO="https")
    counts = {}
    for label, path in (("list 50", "/api/tasks?limit=50"), ("get one", f"/api/tasks/{task_id}")):
        for state in ("first", "warm"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            counts[f"{label} ({state})"] = len(queries)
    return counts


def git_commit(checkout: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True
    ).stdout.strip()


def meta(args, dataset) -> dict:
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "data": f"{dataset.users:,} users, {dataset.total_tasks:,} tasks",
        "duration_s": args.duration,
        "rounds": args.rounds,
        "web": procfile("web"),
        "commit": git_commit(ROOT),
        "against": f"{args.against} at {git_commit(args.against)}" if args.against else None,
        "env": {
            k: os.environ[k]
            for k in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_WORKER_CONNECTIONS")
            if k in os.environ
        },
        "throttle_cache": args.redis or "database",
    }


if __name__ == "__main__":
    sys.exit(main())
