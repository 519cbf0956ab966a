"""Browsers on the configured origins may send and read the API's headers; others get no CORS grant."""

import os
import subprocess
import sys

import pytest

from tests.live import ROOT
from tests.tasks.factories import make_task

FRONTEND = "https://app.example.com"
STRANGER = "https://evil.example.net"
SENT_HEADERS = ["authorization", "content-type", "if-match", "if-none-match", "idempotency-key", "x-request-id"]
READ_HEADERS = ["etag", "location", "retry-after", "x-total-count", "link", "x-request-id"]


@pytest.fixture(autouse=True)
def allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONTEND]


def preflight(client, origin: str, method: str = "PATCH", headers: str = ", ".join(SENT_HEADERS)):
    return client.options(
        "/api/tasks/1",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_a_preflight_from_the_frontend_allows_every_header_the_api_reads(client, method):
    response = preflight(client, FRONTEND, method)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert method.lower() in listed(response["Access-Control-Allow-Methods"])
    assert set(SENT_HEADERS) <= listed(response["Access-Control-Allow-Headers"])


def test_a_preflight_from_another_origin_gets_no_grant(client):
    response = preflight(client, STRANGER)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


def test_a_response_to_the_frontend_exposes_the_headers_a_client_needs(alice_client):
    response = alice_client.get("/api/tasks", HTTP_ORIGIN=FRONTEND)
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert set(READ_HEADERS) <= listed(response["Access-Control-Expose-Headers"])


def test_a_response_to_another_origin_grants_nothing(alice_client):
    response = alice_client.get("/api/tasks", HTTP_ORIGIN=STRANGER)
    assert response.status_code == 200  # CORS is the browser's guard; the token still decides access
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Expose-Headers" not in response


@pytest.mark.parametrize("status", [304, 412, 413, 429])
def test_the_frontend_can_read_conditional_limit_and_throttle_answers(alice_client, alice, settings, status):
    task = make_task(alice)
    path, kwargs = f"/api/tasks/{task.id}", {"HTTP_ORIGIN": FRONTEND}
    if status == 304:
        response = alice_client.get(path, HTTP_IF_NONE_MATCH=alice_client.get(path)["ETag"], **kwargs)
    elif status == 412:
        response = alice_client.patch(path, {"title": "x"}, HTTP_IF_MATCH='"stale"', **kwargs)
    elif status == 413:
        response = alice_client.patch(path, {"title": "x" * 70_000}, **kwargs)
    else:
        rates = {"read": "1/day", "write": "1/day", "anon": "1/day"}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        alice_client.get(path)
        response = alice_client.get(path, **kwargs)
    assert response.status_code == status
    assert response["Access-Control-Allow-Origin"] == FRONTEND


PREVIEWS = r"^https://myapp-[a-z0-9-]+-myteam\.vercel\.app$"


@pytest.mark.parametrize(
    "origin, granted",
    [
        ("https://myapp-git-fix-login-myteam.vercel.app", True),
        ("https://myapp-git-fix-login-myteam.vercel.app.attacker.net", False),
        ("https://attacker.net/https://myapp-x-myteam.vercel.app", False),
        ("http://myapp-git-fix-login-myteam.vercel.app", False),
    ],
)
def test_a_preview_deployment_matching_an_origin_regex_is_granted(client, settings, origin, granted):
    settings.CORS_ALLOWED_ORIGIN_REGEXES = [PREVIEWS]
    response = preflight(client, origin)
    assert (response.get("Access-Control-Allow-Origin") == origin) is granted


def origin_regexes_setting(value: str) -> subprocess.CompletedProcess:
    code = "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGIN_REGEXES)"
    env = {**os.environ, "CORS_ALLOWED_ORIGIN_REGEXES": value, "DJANGO_SETTINGS_MODULE": "todo_project.settings"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_the_origin_regexes_are_read_from_the_environment():
    read = origin_regexes_setting(f"{PREVIEWS} ^https://staging\\.example\\.com$")
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == repr([PREVIEWS, r"^https://staging\.example\.com$"])


@pytest.mark.parametrize(
    "regex", [r"https://myapp-.*\.vercel\.app", r"^https://myapp-.*\.vercel\.app", r"^https://(unclosed$"]
)
def test_an_unanchored_or_broken_origin_regex_stops_the_start(regex):
    read = origin_regexes_setting(regex)
    assert read.returncode != 0
    assert "ImproperlyConfigured: CORS_ALLOWED_ORIGIN_REGEXES" in read.stderr
