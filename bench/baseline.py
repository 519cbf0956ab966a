"""The benchmark's yardstick: the four benchmarked routes as a bare WSGI app.

psycopg, PyJWT and orjson only in the request path, on the same tables with the same queries,
answering the same JSON bytes as the API; the task's columns and JSON are read once at start
from the task model and `TaskSerializer` (`TaskShape`). It is what a careful hand-written service would cost; the API's figures
are reported as ratios to it. It leaves out what the framework adds on purpose (user
provisioning and deactivation, tags on writes, recurrence, request logs): see bench/README.md.

Served by gunicorn with the repository's config: `gunicorn bench.baseline:application -c gunicorn.conf.py`.
"""

import os
import re
import threading
from datetime import UTC, datetime
from urllib.parse import parse_qs

import jwt
import orjson
import psycopg
from psycopg_pool import ConnectionPool

from bench.task_shape import TaskShape

SECRET = os.environ["BETTER_AUTH_SECRET"]
ORIGIN = os.environ.get("BETTER_AUTH_URL", "http://localhost:3000").rstrip("/")
DATABASE_URL = os.environ["DATABASE_URL"]
MAX_TASKS_PER_USER = 10_000


TASK = TaskShape()
COLUMNS = ", ".join(TASK.columns)
# Reads bring each task's tag names along, as the API's do on PostgreSQL (tasks.serializers.task_rows).
TAG_NAMES = (
    "ARRAY(SELECT t.name FROM tasks_task_tags tt JOIN tasks_tag t ON t.id = tt.tag_id WHERE tt.task_id = tasks_task.id)"
)
ROWS_WITH_TAGS = f"SELECT {COLUMNS}, {TAG_NAMES} FROM tasks_task"
# A page's rows also carry the caller's total, as the API's default page query does.
PAGE = (
    f"SELECT {COLUMNS}, {TAG_NAMES}, (SELECT COUNT(*) FROM tasks_task WHERE user_id = %s) FROM tasks_task"
    " WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s"
)
# The same page of one of the caller's lists (`list=`), as the API's filtered list reads it.
PAGE_IN_LIST = (
    f"SELECT {COLUMNS}, {TAG_NAMES}, (SELECT COUNT(*) FROM tasks_task WHERE user_id = %s AND list_id = %s)"
    " FROM tasks_task WHERE user_id = %s AND list_id = %s ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s"
)
INSERT = (
    f"INSERT INTO tasks_task (user_id, title, description, priority, {', '.join(TASK.defaults)})"
    f" VALUES (%s, %s, %s, %s, {', '.join(['%s'] * len(TASK.defaults))}) RETURNING {COLUMNS}"
)
DETAIL = re.compile(r"^/api/tasks/([0-9]{1,18})(/complete)?/?$")

_local = threading.local()  # greenlet-local under gunicorn's gevent worker
_pool: ConnectionPool | None = None


def connection() -> psycopg.Connection:
    """The connection the current request borrowed from the worker's pool."""
    return _local.conn


def borrowed_connection():
    """A connection from a pool of DATABASE_POOL_MAX_SIZE per worker, as the API's (made after the fork)."""
    global _pool
    if _pool is None:
        size = int(os.environ.get("DATABASE_POOL_MAX_SIZE") or 4)
        _pool = ConnectionPool(DATABASE_URL, min_size=size, max_size=size, kwargs={"autocommit": True}, timeout=60)
    return _pool.connection()


def caller(environ) -> str:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer "):
        raise Answer(401, {"code": "not_authenticated", "message": "Authentication credentials were not provided."})
    try:
        claims = jwt.decode(
            header[7:],
            SECRET,
            algorithms=["HS256"],
            audience=ORIGIN,
            issuer=ORIGIN,
            leeway=30,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError:
        raise Answer(401, {"code": "token_invalid", "message": "The token is not valid."}) from None
    return claims["sub"]


class Answer(Exception):
    def __init__(self, status: int, body, headers: list | None = None):
        self.status, self.body, self.headers = status, body, headers or []


def list_tasks(environ, user_id: str):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    limit = int(query.get("limit", ["100"])[0])
    offset = int(query.get("offset", ["0"])[0])
    if not 1 <= limit <= 500 or offset < 0:
        raise Answer(400, {"code": "validation_failed", "message": "limit or offset out of range"})
    in_list = query.get("list", [None])[0]
    with connection().cursor() as cur:
        if in_list is not None:
            if (
                not in_list.isdigit()
                or not cur.execute(
                    "SELECT 1 FROM tasks_tasklist WHERE id = %s AND user_id = %s", (int(in_list), user_id)
                ).fetchone()
            ):
                raise Answer(404, {"code": "not_found", "message": "Not found."})
            rows = cur.execute(PAGE_IN_LIST, (user_id, int(in_list), user_id, int(in_list), limit, offset)).fetchall()
        else:
            rows = cur.execute(PAGE, (user_id, user_id, limit, offset)).fetchall()
        # A page past the end has no row to carry the total: it counts apart, as the API does.
        if rows:
            total = rows[0][-1]
        else:
            total = cur.execute("SELECT COUNT(*) FROM tasks_task WHERE user_id = %s", (user_id,)).fetchone()[0]
        tasks = [TASK.json(row, row[-2]) for row in rows]
    base = f"{environ.get('HTTP_X_FORWARDED_PROTO', 'http')}://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
    links = []
    if offset + limit < total:
        links.append(f'<{base}?limit={limit}&offset={offset + limit}>; rel="next"')
    if offset > 0:
        prev = f"{base}?limit={limit}" + (f"&offset={offset - limit}" if offset - limit > 0 else "")
        links.append(f'<{prev}>; rel="prev"')
    headers = [("X-Total-Count", str(total))] + ([("Link", ", ".join(links))] if links else [])
    return 200, tasks, headers


def get_task(user_id: str, task_id: int):
    with connection().cursor() as cur:
        row = cur.execute(f"{ROWS_WITH_TAGS} WHERE id = %s AND user_id = %s", (task_id, user_id)).fetchone()
        if row is None:
            raise Answer(404, {"code": "not_found", "message": "Not found."})
        return 200, TASK.json(row, row[-1]), []


def create_task(environ, user_id: str):
    body = read_json(environ)
    if set(body) - {"title", "description", "priority"}:
        raise Answer(400, {"code": "validation_failed", "message": "Unknown field."})
    title = body.get("title")
    title = title.strip() if isinstance(title, str) else ""
    description = body.get("description", "")
    priority = body.get("priority", "none")
    if (
        not 1 <= len(title) <= 200
        or not isinstance(description, str)
        or len(description) > 1000
        or priority not in TASK.priorities
    ):
        raise Answer(400, {"code": "validation_failed", "message": "Invalid task."})
    now = datetime.now(UTC)
    conn = connection()
    with conn.transaction(), conn.cursor() as cur:
        count = cur.execute("SELECT COUNT(*) FROM tasks_task WHERE user_id = %s", (user_id,)).fetchone()[0]
        if count >= MAX_TASKS_PER_USER:
            raise Answer(409, {"code": "task_limit_reached", "message": "Too many tasks."})
        seq = cur.execute(NEXT_CHANGE, (user_id,)).fetchone()[0]
        defaults = [seq if column == "change_seq" else default(now) for column, default in TASK.defaults.items()]
        row = cur.execute(INSERT, (user_id, title, description, TASK.priorities[priority], *defaults)).fetchone()
    location = f"{environ.get('HTTP_X_FORWARDED_PROTO', 'http')}://{environ['HTTP_HOST']}/api/tasks/{row[0]}"
    return 201, TASK.json(row, []), [("Location", location)]


# The user's next change number for the change feed, its counter row locked (core/changes.py).
NEXT_CHANGE = (
    "INSERT INTO core_changecounter (user_id, seq, purged_seq) SELECT id, 1, 0 FROM accounts_user"
    " WHERE better_auth_id = %s ON CONFLICT (user_id) DO UPDATE SET seq = core_changecounter.seq + 1 RETURNING seq"
)


def toggle_task(environ, user_id: str, task_id: int):
    body = read_json(environ)
    if set(body) - {"completed"} or not isinstance(body.get("completed", False), bool):
        raise Answer(400, {"code": "validation_failed", "message": "Invalid body."})
    conn = connection()
    with conn.transaction(), conn.cursor() as cur:
        # The locked row with its tags, as the API reads it on PostgreSQL.
        found = cur.execute(
            f"SELECT completed, completed_at, {TAG_NAMES} FROM tasks_task WHERE id = %s AND user_id = %s FOR UPDATE",
            (task_id, user_id),
        ).fetchone()
        if found is None:
            raise Answer(404, {"code": "not_found", "message": "Not found."})
        completed = body.get("completed", not found[0])
        now = datetime.now(UTC)
        completed_at = (found[1] or now) if completed else None
        seq = cur.execute(NEXT_CHANGE, (user_id,)).fetchone()[0]
        row = cur.execute(
            "UPDATE tasks_task SET completed = %s, completed_at = %s, updated_at = %s, version = version + 1,"
            f" change_seq = %s WHERE id = %s RETURNING {COLUMNS}",
            (completed, completed_at, now, seq, task_id),
        ).fetchone()
        # The API's `/complete` answer also names the occurrence it created: none here (no recurrence).
        return 200, {**TASK.json(row, found[2]), "next_occurrence": None}, []


def read_json(environ) -> dict:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise Answer(400, {"code": "parse_error", "message": "JSON parse error."}) from None
    if not isinstance(body, dict):
        raise Answer(400, {"code": "parse_error", "message": "Expected a JSON object."})
    return body


def route(environ):
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if path in ("/healthz", "/healthz/"):
        return 200, {"status": "ok"}, []
    user_id = caller(environ)
    if path in ("/api/tasks", "/api/tasks/"):
        if method == "GET":
            return list_tasks(environ, user_id)
        if method == "POST":
            return create_task(environ, user_id)
    elif match := DETAIL.match(path):
        task_id, complete = int(match[1]), bool(match[2])
        if method == "GET" and not complete:
            return get_task(user_id, task_id)
        if method == "PATCH" and complete:
            return toggle_task(environ, user_id, task_id)
    else:
        raise Answer(404, {"code": "not_found", "message": "Not found."})
    raise Answer(405, {"code": "method_not_allowed", "message": "Method not allowed."})


def application(environ, start_response):
    try:
        with borrowed_connection() as _local.conn:
            status, body, headers = route(environ)
    except Answer as answer:
        status, body, headers = answer.status, answer.body, answer.headers
    payload = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *headers],
    )
    return [payload]
