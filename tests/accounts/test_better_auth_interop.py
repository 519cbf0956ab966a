"""Tokens from the real ``better-auth`` npm package, accepted by this API.

A Node helper (interop/better-auth-server.mjs) runs Better Auth with its jwt() plugin on the
loopback interface and signs Alice up; the API fetches that instance's real JWKS. Needs Node 20
and npm: outside CI the test is skipped without them, in CI (CI=true) it fails instead.
"""

import json
import os
import select
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import jwt
import pytest

from accounts import jwks
from accounts.jwks import fetch_jwks
from accounts.models import User
from tests.accounts.expect import assert_rejected
from tests.auth import SECRET, client_with_token
from tests.node import install_once

# One worker runs the whole module, so each Better Auth server starts once per run.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("better-auth-interop")]

INTEROP = Path(__file__).parent / "interop"


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the Better Auth interop test)")
    pytest.skip(reason)


def _require_node() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        _unavailable(f"{' and '.join(missing)} not installed; the Better Auth interop test needs Node 20 and npm")
    installed = install_once(INTEROP)
    if installed is not None and installed.returncode != 0:
        _unavailable(f"npm ci failed in {INTEROP}:\n{installed.stderr[-2000:]}")


class BetterAuthProcess:
    """One Better Auth instance run by the Node helper, with Alice signed up."""

    def __init__(self, algorithm: str, script: str = "better-auth-server.mjs"):
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            ["node", script],
            cwd=INTEROP,
            env={**os.environ, "ALGORITHM": algorithm, "BETTER_AUTH_SECRET": SECRET},
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"Better Auth did not start:\n{self.stop()[-4000:]}")
        started = json.loads(line)
        self.url: str = started["url"]
        self.user: dict = started["user"]
        self.token: str = started["token"]
        self.session_token: str = started["sessionToken"]

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
            return json.load(response)

    def rotate(self) -> str:
        """Publishes a new signing key beside the old one; a token signed with the new key."""
        request = urllib.request.Request(f"{self.url}/interop/rotate", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["token"]

    def stop(self) -> str:
        """Ends the instance; what it wrote to stderr."""
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.seek(0)
        output = self.log.read()
        self.log.close()
        return output


@pytest.fixture(scope="module", params=["EdDSA", "ES256", "RS256"])
def better_auth(request):
    _require_node()
    server = BetterAuthProcess(request.param)
    server.algorithm = request.param
    yield server
    server.stop()


@pytest.fixture(scope="module")
def better_auth_with_shared_secret():
    _require_node()
    server = BetterAuthProcess("HS256")
    yield server
    server.stop()


def point_the_api_at(server: BetterAuthProcess, better_auth_settings, monkeypatch) -> None:
    """Settings as BETTER_AUTH_URL=<that instance> gives them, with real fetches to it allowed."""
    monkeypatch.setattr(jwks, "fetch_jwks", fetch_jwks)
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # loopback, whatever proxy the environment sets
    better_auth_settings.BETTER_AUTH = {
        **better_auth_settings.BETTER_AUTH,
        "ISSUER": server.url,
        "AUDIENCE": [server.url],
        "JWKS_URL": f"{server.url}/api/auth/jwks",
    }


@pytest.fixture
def api_for(better_auth, better_auth_settings, monkeypatch, clock):
    point_the_api_at(better_auth, better_auth_settings, monkeypatch)
    jwks.key_set_from_settings().clock = clock
    return better_auth


def test_better_auth_publishes_the_keys_the_api_expects(api_for):
    token_header = jwt.get_unverified_header(api_for.token)
    (key,) = api_for.get("/api/auth/jwks")["keys"]
    assert token_header == {"alg": api_for.algorithm, "kid": key["kid"]}
    assert key["alg"] == api_for.algorithm
    if api_for.algorithm == "EdDSA":
        assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")


def test_it_accepts_alices_token_on_both_route_styles(api_for):
    client = client_with_token(api_for.token)
    for path in ("/api/tasks", f"/api/{api_for.user['id']}/tasks"):
        response = client.get(path)
        assert response.status_code == 200, response.content
        assert response.json() == []


def test_it_provisions_alice_with_her_better_auth_id_email_and_name(api_for):
    response = client_with_token(api_for.token).get("/api/me")
    assert response.json() == {"id": api_for.user["id"], "email": "alice@example.com", "name": "Alice Liddell"}
    alice = User.objects.get(better_auth_id=api_for.user["id"])
    assert (alice.email, alice.name) == ("alice@example.com", "Alice Liddell")


def test_the_phase_two_user_id_is_better_auths_user_id(api_for):
    client = client_with_token(api_for.token)
    created = client.post(f"/api/{api_for.user['id']}/tasks", {"title": "Buy milk"})
    assert created.status_code == 201, created.content
    assert created.json()["user_id"] == api_for.user["id"]
    assert [task["title"] for task in client.get("/api/tasks").json()] == ["Buy milk"]


def test_it_accepts_a_rotated_key_and_the_old_token_while_its_key_is_published(api_for, clock):
    old_token = api_for.token
    assert client_with_token(old_token).get("/api/me").status_code == 200
    new_token = api_for.rotate()
    published = {key["kid"] for key in api_for.get("/api/auth/jwks")["keys"]}
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    assert {jwt.get_unverified_header(t)["kid"] for t in (old_token, new_token)} <= published
    clock.advance(10)  # the refetch cooldown since the first fetch
    assert client_with_token(new_token).get("/api/me").status_code == 200
    assert client_with_token(old_token).get("/api/me").status_code == 200


def test_it_rejects_a_better_auth_session_token(api_for):
    assert_rejected(client_with_token(api_for.session_token).get("/api/me"), "token_malformed")


def test_it_accepts_a_token_from_better_auths_sign_hook_with_the_shared_secret(
    better_auth_with_shared_secret, better_auth_settings, monkeypatch
):
    server = better_auth_with_shared_secret
    point_the_api_at(server, better_auth_settings, monkeypatch)
    assert jwt.get_unverified_header(server.token)["alg"] == "HS256"
    response = client_with_token(server.token).get(f"/api/{server.user['id']}/tasks")
    assert response.status_code == 200, response.content


def test_a_helper_that_fails_to_start_shows_its_error(tmp_path):
    if shutil.which("node") is None:
        _unavailable("node not installed; the Better Auth interop test needs Node 20")
    script = tmp_path / "broken.mjs"
    script.write_text('console.error("no database for Better Auth"); process.exit(1);\n')
    with pytest.raises(RuntimeError, match="(?s)did not start.*no database for Better Auth"):
        BetterAuthProcess("EdDSA", script=str(script))
