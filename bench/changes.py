"""The change feed under load: an unchanged poll and a poll with a trickle of writes, against the
same run's `GET /api/me` and list of 50 (bench/README.md, "The change feed").

    .venv/bin/python -m bench.changes [--connections 32] [--duration 10] [--rounds 2] [--writes-per-second 20]
    .venv/bin/python -m bench.changes --against CHECKOUT   # this commit's poll against another's

Seeds the small data set (200 users x 50 tasks) into a fresh database, serves the API as the
Procfile does, takes each user's cursor from a full sync, then drives wrk through the scenarios
in turns (me, list, changes, changes with writes; the order reversed every other round) and
prints requests per second and p99 for each, with the ratios to `/api/me` and to the list. The
trickle is one client toggling random tasks of random users at a steady rate beside wrk, so a
poll finds a change now and then. The cursors are taken again before each run of either: a
poll's answer holds what changed since that run began (a few tasks per user with the trickle).

`--against CHECKOUT` serves another checkout of the project (a `git worktree` of another commit,
with its own `.venv`, on the same database and secrets) beside this one and drives `/api/me` and
the unchanged poll on each in turns: the ratios are this commit's requests per second over that
one's.
"""

import argparse
import json
import random
import shlex
import statistics
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import quote

from bench import seed
from bench.run import (
    ROOT,
    Server,
    free_port,
    git_commit,
    median_run,
    procfile,
    production_env,
    recreate_database,
    redis_answers,
    setup_django,
    token_for,
    wrk,
)

SCENARIOS = ("me", "list", "changes", "changes+writes")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--writes-per-second", type=float, default=20)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_changes")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--against", type=Path, help="another checkout to poll in turns with this one")
    args = parser.parse_args(argv)
    if args.redis and not redis_answers(args.redis):
        args.redis = ""
    return args


class Trickle(threading.Thread):
    """Toggles a random task of a random user at a steady rate until stopped."""

    def __init__(self, server: Server, users: list[list[str]], per_second: float):
        super().__init__(daemon=True)
        self.server, self.users, self.every = server, users, 1 / per_second
        self.stopping, self.writes = threading.Event(), 0

    def run(self):
        while not self.stopping.wait(self.every):
            token, *ids = random.choice(self.users)
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.server.port}/api/tasks/{random.choice(ids)}/complete",
                method="PATCH",
                headers={"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"},
            )
            with urllib.request.urlopen(request, timeout=10):
                self.writes += 1


def cursors_file(server: Server, users: list[list[str]], path: Path) -> None:
    """Each user's token and the cursor a full sync of their tasks ends at."""
    lines = []
    for token, *_ in users:
        page, cursor = {"has_more": True}, ""
        while page["has_more"]:
            page = json.loads(server.get(f"/api/changes?limit=1000{cursor and '&cursor=' + cursor}", token))
            cursor = quote(page["next_cursor"], safe="")
        lines.append(f"{token} {cursor}")
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    out = ROOT / "bench" / "results" / "changes"
    out.mkdir(parents=True, exist_ok=True)
    dataset = seed.DATASETS["small"]
    env = production_env(f"{args.postgres}/{args.database}", args.redis)
    recreate_database(args.postgres, args.database)
    subprocess.run(shlex.split(procfile("release")), cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    setup_django(env)  # the seeder reads a task's columns from the model (bench/task_shape.py)
    seed.seed(env["DATABASE_URL"], dataset)
    users_path, cursors_path = out / "users.txt", out / "cursors.txt"
    seed.users_file(env["DATABASE_URL"], dataset, users_path, token_for=token_for)
    users = [line.split() for line in users_path.read_text().splitlines()]
    app = Server("api", procfile("web"), env, free_port(), out / "api-server.log")
    if args.against:
        return against(args, app, env, users, users_path, cursors_path, out)
    try:
        wrk(app, "mixed", users_path, connections=8, duration=2)  # warm: imports, connections, caches
        # After the warm-up's writes, so that a poll from these cursors finds nothing new.
        cursors_file(app, users, cursors_path)
        runs: dict[str, list] = {name: [] for name in SCENARIOS}
        for round_number in range(args.rounds):
            for name in SCENARIOS if round_number % 2 == 0 else SCENARIOS[::-1]:
                trickle = Trickle(app, users, args.writes_per_second) if name == "changes+writes" else None
                if trickle:
                    trickle.start()
                scenario, path = ("changes", cursors_path) if name.startswith("changes") else (name, users_path)
                if scenario == "changes":  # from where each user's feed stands now (a trickle ran before)
                    cursors_file(app, users, cursors_path)
                if name == "list":
                    scenario = "list"
                runs[name].append(wrk(app, scenario, path, connections=args.connections, duration=args.duration))
                if trickle:
                    trickle.stopping.set()
                    trickle.join()
                    runs[name][-1]["writes"] = trickle.writes
        cells = {name: median_run(r) for name, r in runs.items()}
    finally:
        app.stop()
    print(f"{args.connections} connections, {args.duration} s a run, median of {args.rounds}:")
    for name, cell in cells.items():
        writes = [run.get("writes", 0) for run in cell["runs"]]
        note = f", {statistics.median(writes) / args.duration:.0f} writes/s beside it" if any(writes) else ""
        print(
            f"  {name:15} {cell['rps']:7,.0f} req/s, p99 {cell['p99_us'] / 1000:5.0f} ms, "
            f"{cell['rps'] / cells['me']['rps']:.2f}x /api/me, {cell['rps'] / cells['list']['rps']:.2f}x list 50, "
            f"errors {cell['errors']}{note}"
        )
    (out / "results.json").write_text(json.dumps(cells, indent=2, default=str))
    return 0


def against(args, app: Server, env: dict, users, users_path: Path, cursors_path: Path, out: Path) -> int:
    """`/api/me` and the unchanged poll on this checkout and on `args.against`, in turns."""
    other_env = {**env, "PATH": f"{args.against / '.venv' / 'bin'}:{env['PATH']}"}
    other = Server("against", procfile("web"), other_env, free_port(), out / "against-server.log", cwd=args.against)
    print(f"against {args.against} at {git_commit(args.against)}")
    servers = {"this": app, "that": other}
    try:
        for server in servers.values():
            wrk(server, "mixed", users_path, connections=8, duration=2)
        cursors_file(app, users, cursors_path)  # one database: the same cursors serve both
        runs = {(side, name): [] for side in servers for name in ("me", "changes")}
        for round_number in range(args.rounds):
            turns = list(runs) if round_number % 2 == 0 else list(runs)[::-1]
            for side, name in turns:
                path = cursors_path if name == "changes" else users_path
                runs[side, name].append(
                    wrk(servers[side], name, path, connections=args.connections, duration=args.duration)
                )
        cells = {key: median_run(r) for key, r in runs.items()}
    finally:
        for server in servers.values():
            server.stop()
    print(f"{args.connections} connections, {args.duration} s a run, median of {args.rounds}:")
    for name in ("me", "changes"):
        this, that = cells["this", name], cells["that", name]
        print(
            f"  {name:8} this {this['rps']:7,.0f} req/s (p99 {this['p99_us'] / 1000:4.0f} ms), "
            f"that {that['rps']:7,.0f} req/s (p99 {that['p99_us'] / 1000:4.0f} ms): {this['rps'] / that['rps']:.2f}x"
        )
    for side in servers:
        print(f"  {side}: unchanged poll {cells[side, 'changes']['rps'] / cells[side, 'me']['rps']:.2f}x /api/me")
    (out / "against.json").write_text(json.dumps({f"{s} {n}": c for (s, n), c in cells.items()}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
