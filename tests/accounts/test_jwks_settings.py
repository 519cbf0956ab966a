"""The Better Auth JWKS settings read from the environment, and the mistakes they refuse at start-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_AUTH_SETTINGS = (
    "import json; from accounts.settings import DEFAULTS, auth_settings; "
    "print(json.dumps({name: getattr(auth_settings, name) for name in DEFAULTS}))"
)


def start(**variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BETTER_AUTH_"))}
    env.update({"DJANGO_DEBUG": "true", **variables})
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT_AUTH_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def auth_settings(**variables: str) -> dict:
    result = start(**variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_defaults_follow_better_auth():
    config = auth_settings(BETTER_AUTH_URL="https://app.example/some/path", BETTER_AUTH_JWKS_URL="")
    assert config["JWKS_URL"] == "https://app.example/some/path/api/auth/jwks"
    assert config["JWKS_ALGORITHMS"] == ["EdDSA", "ES256", "ES512", "RS256", "PS256"]
    assert config["HS_ALGORITHMS"] == ["HS256", "HS384", "HS512"]
    assert config["JWKS"] is None
    assert (config["ISSUER"], config["AUDIENCE"]) == ("https://app.example", ["https://app.example"])


def test_each_mode_can_be_switched_off():
    config = auth_settings(BETTER_AUTH_JWKS_ALGORITHMS="", BETTER_AUTH_HS_ALGORITHMS="HS256")
    assert (config["JWKS_ALGORITHMS"], config["HS_ALGORITHMS"]) == ([], ["HS256"])
    assert auth_settings(BETTER_AUTH_HS_ALGORITHMS="")["HS_ALGORITHMS"] == []


def test_it_reads_a_static_key_set_and_the_cache_timings():
    jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}
    config = auth_settings(
        BETTER_AUTH_JWKS=json.dumps(jwks),
        BETTER_AUTH_JWKS_CACHE_SECONDS="3600",
        BETTER_AUTH_JWKS_REFETCH_COOLDOWN_SECONDS="30",
        BETTER_AUTH_JWKS_TIMEOUT_SECONDS="3",
    )
    assert config["JWKS"] == jwks
    assert (config["JWKS_CACHE_SECONDS"], config["JWKS_REFETCH_COOLDOWN_SECONDS"], config["JWKS_TIMEOUT_SECONDS"]) == (
        3600,
        30,
        3,
    )


@pytest.mark.parametrize(
    "variable, value, complaint",
    [
        ("BETTER_AUTH_JWKS", "not json", "BETTER_AUTH_JWKS must be a JSON Web Key Set"),
        ("BETTER_AUTH_JWKS", '[{"kty": "OKP"}]', "BETTER_AUTH_JWKS must be a JSON Web Key Set"),
        ("BETTER_AUTH_JWKS_URL", "file:///etc/passwd", "BETTER_AUTH_JWKS_URL must be an http(s) URL"),
        ("BETTER_AUTH_JWKS_ALGORITHMS", "EdDSA,HS256", "BETTER_AUTH_JWKS_ALGORITHMS may list only"),
        ("BETTER_AUTH_JWKS_ALGORITHMS", "none", "BETTER_AUTH_JWKS_ALGORITHMS may list only"),
        ("BETTER_AUTH_HS_ALGORITHMS", "HS256,RS256", "BETTER_AUTH_HS_ALGORITHMS may list only"),
        ("BETTER_AUTH_JWKS_TIMEOUT_SECONDS", "soon", "BETTER_AUTH_JWKS_TIMEOUT_SECONDS must be a whole number"),
    ],
)
def test_it_refuses_to_start_with_a_bad_value_and_names_the_variable(variable, value, complaint):
    result = start(**{variable: value})
    assert result.returncode != 0
    assert complaint in result.stderr
