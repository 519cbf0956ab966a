"""Fills a fresh benchmark database with users, tags and tasks through COPY, and mints their tokens."""

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from bench.task_shape import TaskShape

TAGS_PER_USER = 3
PRIORITIES = 4


@dataclass(frozen=True)
class Dataset:
    """How many users, and how many tasks each; `big_user_tasks` makes user 0 a heavy one."""

    users: int
    tasks_per_user: int
    big_user_tasks: int = 0

    def tasks_of(self, user_number: int) -> int:
        if user_number == 0 and self.big_user_tasks:
            return self.big_user_tasks
        return self.tasks_per_user

    @property
    def total_tasks(self) -> int:
        return sum(self.tasks_of(n) for n in range(self.users))


DATASETS = {
    "smoke": Dataset(users=5, tasks_per_user=60),
    "small": Dataset(users=200, tasks_per_user=50),
    # 1,000,000 tasks over 10,000 users, one of whom has 100,000.
    "large": Dataset(users=10_000, tasks_per_user=90, big_user_tasks=100_090),
}


def user_id(number: int) -> str:
    """A Better Auth style id: 32 characters of [A-Za-z0-9]."""
    return f"bench{number:027d}"


def profile(number: int) -> tuple[str, str]:
    """The email and name a user's token carries (and the row holds, so no request writes it)."""
    return f"{user_id(number)}@bench.example", f"Bench User {number}"


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.started, self.shown = label, total, 0, time.monotonic(), -1

    def advance(self, n: int = 1) -> None:
        self.done += n
        percent = self.done * 100 // max(self.total, 1)
        # Redrawn in place on a terminal; in a log, a line every quarter.
        if percent != self.shown and (sys.stderr.isatty() or percent % 25 == 0):
            self.shown = percent
            bar = "#" * (percent // 4)
            rate = self.done / max(time.monotonic() - self.started, 1e-6)
            sys.stderr.write(
                f"\r  {self.label:<12} [{bar:<25}] {percent:3d}% {self.done:>9,}/{self.total:,} ({rate:,.0f}/s)"
            )
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


LAST_SEEN_SPREAD_S = 300
TASK_COLUMNS = [
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_at",
    "recurrence",
    "list_id",
    "created_at",
    "updated_at",
    "version",
]


def seed(conninfo: str, dataset: Dataset) -> None:
    """Users, three tags each, a list each, tasks (every third one tagged, nine in ten in the
    user's list) with explicit ids, then ANALYZE. A user's list has the id of their first task,
    so load.lua can name it (`list=`) from the users file. Needs Django set up
    (bench.run.setup_django) for the task's other columns."""
    now = datetime.now(UTC)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        progress = Progress("users", dataset.users)
        with cur.copy(
            "COPY accounts_user (password, is_superuser, first_name, last_name, email, is_staff, is_active,"
            " date_joined, better_auth_id, name, last_seen_at) FROM STDIN"
        ) as copy:
            for n in range(dataset.users):
                email, name = profile(n)
                # Users in a steady stream: each was last seen within the API's last-seen resolution
                # (accounts.services.LAST_SEEN_RESOLUTION, 5 minutes), at times spread evenly, so
                # during a run they come due for their last-seen write at the steady rate (10,000
                # users: about 33 writes a second), not all at their first request.
                last_seen = now - timedelta(seconds=(n * 7919) % LAST_SEEN_SPREAD_S)
                copy.write_row(("!bench", False, "", "", email, False, True, now, user_id(n), name, last_seen))
                progress.advance()

        progress = Progress("tags", dataset.users * TAGS_PER_USER)
        with cur.copy("COPY tasks_tag (id, user_id, name) FROM STDIN") as copy:
            for n in range(dataset.users):
                for t in range(TAGS_PER_USER):
                    copy.write_row((n * TAGS_PER_USER + t + 1, user_id(n), ("home", "work", "Errands")[t]))
                progress.advance(TAGS_PER_USER)

        progress = Progress("lists", dataset.users)
        with cur.copy(
            "COPY tasks_tasklist (id, user_id, name, position, created_at, updated_at, version) FROM STDIN"
        ) as copy:
            first_task = 1
            for n in range(dataset.users):
                copy.write_row((first_task, user_id(n), "Work", 0, now, now, 1))
                first_task += dataset.tasks_of(n)
                progress.advance()

        progress = Progress("tasks", dataset.total_tasks)
        links = []
        task_id = 0
        # Columns this seeder does not vary (a new task field) get their model default.
        others = {column: default for column, default in TaskShape().defaults.items() if column not in TASK_COLUMNS}
        with cur.copy(f"COPY tasks_task ({', '.join([*TASK_COLUMNS, *others])}) FROM STDIN") as copy:
            for n in range(dataset.users):
                owner, count = user_id(n), dataset.tasks_of(n)
                list_id = task_id + 1
                for i in range(count):
                    task_id += 1
                    created = now - timedelta(minutes=count - i)
                    completed = i % 4 == 0
                    due = now + timedelta(days=(i % 30) - 10) if i % 2 else None
                    copy.write_row(
                        (
                            task_id,
                            owner,
                            f"Task {i} of user {n}",
                            "Some words about it" if i % 3 else "",
                            completed,
                            created if completed else None,
                            i % PRIORITIES,
                            due,
                            None,
                            list_id if i % 10 else None,
                            created,
                            created,
                            1,
                            *(default(created) for default in others.values()),
                        )
                    )
                    if i % 3 == 0:
                        links.append((task_id, n * TAGS_PER_USER + 1 + i % TAGS_PER_USER))
                progress.advance(count)

        progress = Progress("task tags", len(links))
        with cur.copy("COPY tasks_task_tags (task_id, tag_id) FROM STDIN") as copy:
            for link in links:
                copy.write_row(link)
                progress.advance()

        for table in ("tasks_task", "tasks_tag", "tasks_task_tags", "tasks_tasklist"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    # Outside a transaction: VACUUM sets the visibility map, so counts can be index-only scans.
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def users_file(
    conninfo: str, dataset: Dataset, path, *, token_for, only_user: int | None = None, ids_per_user: int = 50
) -> None:
    """Writes `<token> <task id>...` a line for wrk's load.lua. The heavy user (user 0 with
    `big_user_tasks`) is over the API's task limit, so a create would be a 409: it is left out
    unless asked for by `only_user` (bench/run.py measures its list on its own)."""
    numbers = [only_user] if only_user is not None else range(1 if dataset.big_user_tasks else 0, dataset.users)
    with psycopg.connect(conninfo) as conn, open(path, "w") as out:
        for n in numbers:
            ids = conn.execute(
                "SELECT id FROM tasks_task WHERE user_id = %s ORDER BY id LIMIT %s", (user_id(n), ids_per_user)
            ).fetchall()
            email, name = profile(n)
            out.write(" ".join([token_for(user_id(n), email, name), *(str(i) for (i,) in ids)]) + "\n")


def seeded_max_task_id(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM tasks_task").fetchone()[0]


def forget_writes(conninfo: str, max_seeded_id: int) -> None:
    """Drops the tasks a write scenario created, so every run reads the same data."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM tasks_task WHERE id > %s", (max_seeded_id,))
