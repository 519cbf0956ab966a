"""Moves in the manual order under load, against the same run's list of 50 (bench/README.md,
"Moves").

    .venv/bin/python -m bench.moves [--connections 32] [--duration 10] [--rounds 2]

Seeds the small data set (200 users x 50 tasks, nine in ten in the user's list), numbers each
list's tasks 65,536 apart as creates would have, serves the API as the Procfile does, and drives
wrk through the list of 50 and `POST /api/tasks/{id}/move {"after": id}` (two random tasks of
the user's list) in turns, the order reversed every other round. Prints requests per second and
p99 for each, the moves' ratio to the list, and how many rows a move wrote on average (a move
writes the moved task; a renumbering, when a gap runs out, each task whose position changed).
"""

import argparse
import json
import shlex
import subprocess
import sys

import psycopg

from bench import seed
from bench.run import (
    ROOT,
    Server,
    free_port,
    median_run,
    procfile,
    production_env,
    recreate_database,
    redis_answers,
    setup_django,
    token_for,
    wrk,
)

SCENARIOS = ("list", "move")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_moves")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args(argv)
    if args.redis and not redis_answers(args.redis):
        args.redis = ""
    return args


def number_positions(conninfo: str) -> None:
    """Each list's (and inbox's) tasks 65,536 apart in id order, as one create after another leaves them."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "UPDATE tasks_task SET position = ranked.n * 65536 FROM (SELECT id, row_number() OVER "
            "(PARTITION BY user_id, list_id ORDER BY id) AS n FROM tasks_task) ranked WHERE tasks_task.id = ranked.id"
        )


def versions(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT sum(version) FROM tasks_task").fetchone()[0]


def main(argv=None) -> int:
    args = parse_args(argv)
    out = ROOT / "bench" / "results" / "moves"
    out.mkdir(parents=True, exist_ok=True)
    dataset = seed.DATASETS["small"]
    env = production_env(f"{args.postgres}/{args.database}", args.redis)
    recreate_database(args.postgres, args.database)
    subprocess.run(shlex.split(procfile("release")), cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    setup_django(env)  # the seeder reads a task's columns from the model (bench/task_shape.py)
    seed.seed(env["DATABASE_URL"], dataset)
    number_positions(env["DATABASE_URL"])
    users_path = out / "users.txt"
    seed.users_file(env["DATABASE_URL"], dataset, users_path, token_for=token_for)
    app = Server("api", procfile("web"), env, free_port(), out / "api-server.log")
    try:
        wrk(app, "list", users_path, connections=8, duration=2)  # warm: imports, connections, caches
        runs: dict[str, list] = {name: [] for name in SCENARIOS}
        written = moves = 0
        for round_number in range(args.rounds):
            for name in SCENARIOS if round_number % 2 == 0 else SCENARIOS[::-1]:
                before = versions(env["DATABASE_URL"])
                runs[name].append(wrk(app, name, users_path, connections=args.connections, duration=args.duration))
                if name == "move":
                    written += versions(env["DATABASE_URL"]) - before
                    moves += runs[name][-1]["requests"]
        cells = {name: median_run(r) for name, r in runs.items()}
    finally:
        app.stop()
    print(f"{args.connections} connections, {args.duration} s a run, median of {args.rounds}:")
    for name, cell in cells.items():
        print(
            f"  {name:5} {cell['rps']:7,.0f} req/s, p99 {cell['p99_us'] / 1000:5.0f} ms, "
            f"{cell['rps'] / cells['list']['rps']:.2f}x list 50, errors {cell['errors']}"
        )
    print(f"  rows written per move: {written / max(moves, 1):.2f} ({written} task versions over {moves} moves)")
    (out / "results.json").write_text(json.dumps({"cells": cells, "rows_per_move": written / max(moves, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
