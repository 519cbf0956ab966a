"""Instructions per request, counted by valgrind's callgrind: the same count whatever else the
machine is doing, so two requests (or two commits) compare without this machine's drift.

    .venv/bin/python -m bench.instructions --scenarios me,changes [--requests 1500]

For each scenario it runs this checkout's API in one process under callgrind twice, after the
same warm-up (every user's requests seen once, their caches and last-seen times settled): once
with no measured request and once with `--requests` of them, and prints the difference per
request. Run it in another checkout (a `git worktree` with its own `.venv`) to compare commits.
It uses the database `bench.inprocess` seeds (`bench_profile`, seeded on first use) and Redis
when it answers. Needs valgrind (Debian's package). A run of 1,500 requests takes a few minutes.
"""

import argparse
import os
import subprocess
import sys

from bench import inprocess, run, seed

WARM_UP_ROUNDS = 2  # requests per user before anything is counted


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="me,changes")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_profile")
    # Another bench on the shared database 15 announces its own users' changes under the same
    # keys: an "unchanged" poll here would then find a hint ahead of its cursor.
    parser.add_argument("--redis", default=inprocess.REDIS)
    parser.add_argument("--serve", nargs=2, metavar=("SCENARIO", "N"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def serve(args) -> None:
    """The counted process: the warm-up, then N requests of one scenario."""
    scenario, n = args.serve[0], int(args.serve[1])
    database_url = f"{args.postgres}/{args.database}"
    env = run.production_env(database_url, args.redis if run.redis_answers(args.redis) else "")
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    os.environ["LOG_LEVEL"] = "WARNING"
    # Under callgrind a request takes some fifty times as long: the feed's hint (30 s) would
    # expire mid-run, and an "unchanged" poll that finds it gone reads the database instead.
    os.environ["SYNC_HINT_SECONDS"] = "3600"
    run.setup_django(env)
    users_path = run.ROOT / "bench" / "results" / "instructions-users.txt"
    users_path.parent.mkdir(parents=True, exist_ok=True)
    seed.users_file(database_url, seed.DATASETS["small"], users_path, token_for=run.token_for)
    users = [line.split() for line in users_path.read_text().splitlines()]
    from todo_project.wsgi import application as api

    max_seeded = seed.seeded_max_task_id(database_url)
    try:
        if scenario == "changes":
            for token, *_ in users:
                inprocess.CURSORS[token] = inprocess.sync_to_the_end(api, token)
        for request in inprocess.requests_for(scenario, users, WARM_UP_ROUNDS * len(users)):
            inprocess.call(api, *request)
        for request in list(inprocess.requests_for(scenario, users[7:], n)):
            inprocess.call(api, *request)
    finally:
        seed.forget_writes(database_url, max_seeded)


def counted(args, scenario: str, n: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        "--postgres",
        args.postgres,
        "--database",
        args.database,
        "--redis",
        args.redis,
        "--serve",
        scenario,
        str(n),
    ]
    done = subprocess.run(command, cwd=run.ROOT, capture_output=True, text=True, check=True)
    [line] = [line for line in done.stderr.splitlines() if "Collected" in line]
    return int(line.split()[-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args)
        return 0
    if not inprocess.database_ready(args.postgres, args.database):
        # Seeded as bench.inprocess seeds it.
        inprocess.main(["--postgres", args.postgres, "--database", args.database, "--scenarios", "me"])
    print(f"instructions per request ({args.requests} requests counted, less none):")
    for scenario in args.scenarios.split(","):
        per_request = (counted(args, scenario, args.requests) - counted(args, scenario, 0)) / args.requests
        print(f"  {scenario:8} {per_request / 1e6:6.2f} million")
    return 0


if __name__ == "__main__":
    sys.exit(main())
