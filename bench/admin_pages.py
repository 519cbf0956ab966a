"""Times the admin's pages at scale: 10,000 users and 1,000,000 tasks in a fresh PostgreSQL database.

    .venv/bin/python bench/admin_pages.py [--server postgres://postgres@127.0.0.1:5432] [--users N] [--tasks N]

It DROPS and recreates the database `todo_admin_bench` on that server, migrates it, seeds it
with set-based INSERT ... SELECT (about a minute for a million tasks), then renders each page
through Django's test client as a signed-in operator: one warm-up, then the median of five.
Not part of the test suite. The seed names every task column: a new NOT NULL column without
a database default needs a value there. --reuse migrates and times an already seeded database.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "todo_admin_bench"

SEED_USERS = """
INSERT INTO accounts_user (password, is_superuser, first_name, last_name, email, is_staff, is_active,
                           date_joined, username, better_auth_id, name, last_seen_at)
SELECT '!', false, '', '', 'user' || i || '@example.com', false, i %% 50 <> 0,
       now() - i * interval '1 minute', NULL, 'user' || lpad(i::text, 28, '0'), 'User ' || i,
       CASE WHEN i %% 7 <> 0 THEN now() - (i %% 1000) * interval '1 hour' END
FROM generate_series(1, %(users)s) AS i
"""

SEED_TASKS = """
INSERT INTO tasks_task (user_id, title, description, completed, completed_at, priority, due_at, recurrence,
                        next_occurrence_id, created_at, updated_at, version)
SELECT 'user' || lpad((1 + i %% %(users)s)::text, 28, '0'),
       (ARRAY['Buy milk', 'Call mum', 'Pay rent', 'Fix the bike', 'Write the report'])[1 + i %% 5] || ' #' || i,
       '', i %% 3 = 0, CASE WHEN i %% 3 = 0 THEN now() END, i %% 4,
       CASE WHEN i %% 2 = 0 THEN now() + ((i %% 60) - 30) * interval '1 day' END, NULL, NULL,
       now() - (%(tasks)s - i) * interval '1 second', now(), 1
FROM generate_series(1, %(tasks)s) AS i
"""

SEED_TAGS = """
INSERT INTO tasks_tag (user_id, name)
SELECT better_auth_id, tag FROM accounts_user, unnest(ARRAY['home', 'work', 'errand']) AS tag
WHERE better_auth_id IS NOT NULL
"""

# A third of the tasks carry one of their owner's tags.
SEED_TASK_TAGS = """
INSERT INTO tasks_task_tags (task_id, tag_id)
SELECT t.id, g.id FROM tasks_task t
JOIN tasks_tag g ON g.user_id = t.user_id AND g.name = (ARRAY['home', 'work', 'errand'])[1 + t.id % 9 / 3]
WHERE t.id % 3 = 0
"""


def recreate_database(server: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def configure_django(server: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=f"{server}/{DATABASE}",
        DJANGO_DEBUG="false",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("BETTER_AUTH_SECRET", "bench-only-better-auth-secret-0123456789abcdef")
    os.environ.setdefault("BETTER_AUTH_URL", "http://localhost:3000")
    os.environ.setdefault("CORS_ALLOWED_ORIGINS", "http://localhost:3000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    import django

    django.setup()


def seed(users: int, tasks: int) -> None:
    from django.db import connection

    for label, sql in [
        (f"{users:,} users", SEED_USERS),
        (f"{tasks:,} tasks", SEED_TASKS),
        ("3 tags per user", SEED_TAGS),
        ("tags on a third of the tasks", SEED_TASK_TAGS),
        ("ANALYZE", "ANALYZE"),
    ]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")  # seeding is one long statement a step
            cursor.execute(sql, {"users": users, "tasks": tasks} if "%(" in sql else None)
        print(f"seeded {label} in {time.perf_counter() - started:.1f} s", flush=True)


def pages(users: int, tasks: int) -> list[tuple[str, str]]:
    some_user = f"user{users // 2:028d}"
    return [
        ("users: list", "/admin/accounts/user/"),
        ("users: page 50", f"/admin/accounts/user/?p={min(50, users // 100)}"),
        ("users: search by email", f"/admin/accounts/user/?q=user{users // 2}@example.com"),
        ("users: search by Better Auth id", f"/admin/accounts/user/?q={some_user}"),
        ("users: inactive", "/admin/accounts/user/?is_active__exact=0"),
        ("users: change form", f"/admin/accounts/user/{users // 2}/change/"),
        ("tasks: list", "/admin/tasks/task/"),
        ("tasks: page 500", f"/admin/tasks/task/?p={min(500, tasks // 100)}"),
        ("tasks: completed", "/admin/tasks/task/?completed__exact=1"),
        ("tasks: priority high", "/admin/tasks/task/?priority__exact=3"),
        ("tasks: overdue", "/admin/tasks/task/?due=overdue"),
        ("tasks: due this week", "/admin/tasks/task/?due=week"),
        ("tasks: search title (common)", "/admin/tasks/task/?q=milk"),
        ("tasks: search title (one match)", f"/admin/tasks/task/?q=%23{tasks // 2}"),
        ("tasks: search owner email", f"/admin/tasks/task/?q=user{users // 2}@example.com"),
        ("tasks: one user's (task count link)", f"/admin/tasks/task/?owner__exact={some_user}"),
        ("tasks: sorted by title", "/admin/tasks/task/?o=1"),
        ("tasks: sorted by due", "/admin/tasks/task/?o=5"),
        ("tasks: change form", f"/admin/tasks/task/{tasks // 2}/change/"),
        ("owner autocomplete", "/admin/autocomplete/?app_label=tasks&model_name=task&field_name=owner&term=user42"),
    ]


def time_pages(users: int, tasks: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from accounts.models import User

    operator, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(operator)
    print("\n| page | median ms | min ms | queries |\n|---|---:|---:|---:|")
    # collectstatic has not run here; serve static files from the apps, as the tests do.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
        for label, url in pages(users, tasks):
            client.get(url)  # warm-up: templates, plans, caches
            durations = []
            for _ in range(5):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    durations.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            print(
                f"| {label} | {statistics.median(durations):.0f} | {min(durations):.0f} | {len(queries)} |", flush=True
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL, no database"
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="time an already seeded database again")
    args = parser.parse_args()
    if not args.reuse:
        recreate_database(args.server.rstrip("/"))
    configure_django(args.server.rstrip("/"))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not args.reuse:
        seed(args.users, args.tasks)
    time_pages(args.users, args.tasks)


if __name__ == "__main__":
    main()
