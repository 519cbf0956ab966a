"""EXPLAIN ANALYZE for every query the task list runs, for each filter and sort, as the API sends them."""

import json

from bench.seed import Dataset, profile, user_id

# (name, query string) for GET /api/tasks: the default page and one request per filter and sort.
REQUESTS = [
    ("default page", "limit=50"),
    ("deep page", "limit=50&offset=5000"),
    ("status=pending", "limit=50&status=pending"),
    ("status=completed", "limit=50&status=completed"),
    ("priority=high", "limit=50&priority=high"),
    ("tag=home", "limit=50&tag=HOME"),  # the tag the seed puts on every third task, in another case
    ("due_before", "limit=50&due_before=2000-01-01T00:00:00Z"),
    ("due_after", "limit=50&due_after=2100-01-01T00:00:00Z"),
    ("overdue=true", "limit=50&overdue=true"),
    ("search", "limit=50&search=zzz"),
    ("updated_since", "limit=50&updated_since=2100-01-01T00:00:00Z"),
    ("sort=due_date", "limit=50&sort=due_date"),
    ("sort=priority", "limit=50&sort=priority"),
    ("sort=title", "limit=50&sort=title"),
    ("sort=updated", "limit=50&sort=updated"),
    ("sort=-created", "limit=50&sort=-created"),
]


def _scans(node: dict) -> list[str]:
    here = node["Node Type"]
    if "Index Name" in node:
        here += f" {node['Index Name']}"
    elif "Relation Name" in node:
        here += f" {node['Relation Name']}"
    found = [here] if "Scan" in node["Node Type"] else []
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


def _kind(sql: str) -> str:
    if "COUNT(" in sql.upper():
        return "count"
    if 'FROM "tasks_task_tags"' in sql:
        return "tags of the page"
    return "page"


def plans(dataset: Dataset) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.tokens import development_token

    email, name = profile(0)
    token = development_token(user_id=user_id(0), email=email, name=name, minutes=30)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FORWARDED_PROTO="https")
    client.get("/api/tasks?limit=1")  # signs the user in, so the queries below are the list's own
    found = []
    for name, query in REQUESTS:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/tasks?{query}")
        assert response.status_code == 200, (name, response.content[:200])
        for executed in captured.captured_queries:
            sql = executed["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "accounts_user" in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            scans = _scans(plan[0]["Plan"])
            found.append(
                {
                    "name": name,
                    "kind": _kind(sql),
                    "summary": ", ".join(dict.fromkeys(scans)),
                    "seq_scan": any(scan.startswith("Seq Scan") for scan in scans),
                    "ms": plan[0]["Execution Time"],
                    "sql": sql,
                }
            )
    return found
