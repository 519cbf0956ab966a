"""Production refuses to start with an unsafe configuration, and says which variable is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAFE = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789",
    "BETTER_AUTH_SECRET": "a-production-better-auth-secret-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
}


def start(**overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BETTER_AUTH_"))}
    env.update(SAFE)
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_it_starts_with_a_safe_configuration():
    result = start()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DJANGO_SECRET_KEY", ""),
        ("BETTER_AUTH_SECRET", ""),
        ("BETTER_AUTH_SECRET", "too-short"),
        ("DJANGO_ALLOWED_HOSTS", ""),
    ],
)
def test_it_refuses_to_start_and_names_the_variable(variable, value):
    result = start(**{variable: value})
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert variable in result.stderr


def test_a_jwks_only_deployment_needs_no_shared_secret():
    result = start(BETTER_AUTH_SECRET="", BETTER_AUTH_HS_ALGORITHMS="")
    assert result.returncode == 0, result.stderr


def test_it_refuses_to_start_with_both_token_modes_off():
    result = start(BETTER_AUTH_HS_ALGORITHMS="", BETTER_AUTH_JWKS_ALGORITHMS="")
    assert result.returncode != 0
    assert "BETTER_AUTH_JWKS_ALGORITHMS" in result.stderr


def test_it_rejects_a_malformed_boolean():
    result = start(DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_debug_mode_starts_without_production_secrets():
    result = start(DJANGO_DEBUG="true", DJANGO_SECRET_KEY="", BETTER_AUTH_SECRET="", DJANGO_ALLOWED_HOSTS="")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["lots", "10/fortnight", "0/min", "-1/s"])
def test_it_refuses_a_throttle_rate_it_cannot_read(value):
    result = start(THROTTLE_WRITE_RATE=value)
    assert result.returncode != 0
    assert "THROTTLE_WRITE_RATE" in result.stderr
