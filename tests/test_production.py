"""Production settings: unsafe configurations refused by name, check --deploy clean, HTTPS behind a proxy, PostgreSQL options, logs."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghijkl",
    "BETTER_AUTH_SECRET": "a-production-better-auth-secret-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "BETTER_AUTH_URL": "https://app.example.com",
    "CORS_ALLOWED_ORIGINS": "https://app.example.com",
    "DATABASE_URL": f"sqlite:///{ROOT / 'db.sqlite3'}",
}


def run(*args: str, **overrides: str | None) -> subprocess.CompletedProcess:
    """Runs manage.py in a fresh process with production variables only (plus overrides; None unsets one)."""
    prefixes = ("DJANGO_", "BETTER_AUTH_", "DATABASE_", "LOG_", "CORS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(PRODUCTION, **overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def setting(name: str, **overrides: str):
    """A setting's value as the process would see it, read in a fresh process."""
    code = f"import json; from django.conf import settings; print(json.dumps(settings.{name}, default=str))"
    result = run("shell", "--verbosity", "0", "-c", code, **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_it_starts_with_a_safe_configuration():
    result = run("check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DJANGO_SECRET_KEY", ""),
        ("BETTER_AUTH_SECRET", ""),
        ("BETTER_AUTH_SECRET", "too-short"),
        ("BETTER_AUTH_SECRET", "a" * 32),  # long enough, but guessable: too few distinct characters
        ("BETTER_AUTH_SECRET", "ab" * 40),
        ("DJANGO_ALLOWED_HOSTS", ""),
    ],
)
def test_it_refuses_to_start_and_names_the_variable(variable, value):
    result = run("check", **{variable: value})
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert variable in result.stderr


def test_a_random_hex_secret_of_32_characters_is_enough():
    assert run("check", BETTER_AUTH_SECRET="9f86d081884c7d659a2feaa0c55ad015").returncode == 0


@pytest.mark.parametrize(
    "variable, unset",
    [
        ("BETTER_AUTH_URL", None),
        ("BETTER_AUTH_URL", ""),
        ("DATABASE_URL", None),
        ("DATABASE_URL", ""),
        ("CORS_ALLOWED_ORIGINS", None),
    ],  # set but empty: no browser frontend (below)
)
def test_it_refuses_to_start_without_a_setting_production_cannot_guess(variable, unset):
    result = run("check", **{variable: unset})
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Configuration error: Refusing to start") and f"{variable} is not set" in line


def test_a_static_key_set_or_shared_secret_tokens_only_need_no_better_auth_url():
    static_jwks = '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'
    for explicit in ({"BETTER_AUTH_JWKS": static_jwks}, {"BETTER_AUTH_JWKS_ALGORITHMS": ""}):
        result = run("check", BETTER_AUTH_URL=None, CORS_ALLOWED_ORIGINS=None, **explicit)
        assert result.returncode == 0, (explicit, result.stderr)


def test_an_explicit_sqlite_database_and_no_browser_origins_are_allowed():
    result = run("check", DATABASE_URL="sqlite:////tmp/api.sqlite3", CORS_ALLOWED_ORIGINS="")
    assert result.returncode == 0, result.stderr


def test_check_deploy_reports_a_forgotten_setting():
    result = run("check", "--deploy", DJANGO_DEBUG="true", DATABASE_URL=None)
    assert result.returncode != 0
    assert "core.E001" in result.stderr and "DATABASE_URL is not set" in result.stderr


def test_a_jwks_only_deployment_needs_no_shared_secret():
    result = run("check", BETTER_AUTH_SECRET="", BETTER_AUTH_HS_ALGORITHMS="")
    assert result.returncode == 0, result.stderr


def test_it_refuses_to_start_with_both_token_modes_off():
    result = run("check", BETTER_AUTH_HS_ALGORITHMS="", BETTER_AUTH_JWKS_ALGORITHMS="")
    assert result.returncode != 0
    assert "BETTER_AUTH_JWKS_ALGORITHMS" in result.stderr


def test_it_rejects_a_malformed_boolean():
    result = run("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_debug_mode_starts_without_production_secrets():
    result = run("check", DJANGO_DEBUG="true", DJANGO_SECRET_KEY="", BETTER_AUTH_SECRET="", DJANGO_ALLOWED_HOSTS="")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["lots", "10/fortnight", "0/min", "-1/s"])
def test_it_refuses_a_throttle_rate_it_cannot_read(value):
    result = run("check", THROTTLE_WRITE_RATE=value)
    assert result.returncode != 0
    assert "THROTTLE_WRITE_RATE" in result.stderr


def test_check_deploy_reports_nothing_in_production():
    result = run("check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_notices_when_hsts_is_switched_off():
    result = run("check", "--deploy", DJANGO_SECURE_HSTS_SECONDS="0")
    assert "security.W004" in result.stderr


def test_https_is_enforced_and_the_proxy_header_trusted_in_production():
    assert setting("SECURE_SSL_REDIRECT") is True
    assert setting("SECURE_PROXY_SSL_HEADER") == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert setting("SESSION_COOKIE_SECURE") is True


def test_development_needs_no_https():
    development = {"DJANGO_DEBUG": "true"}
    assert setting("SECURE_SSL_REDIRECT", **development) is False
    assert setting("SECURE_HSTS_SECONDS", **development) == 0
    assert setting("SESSION_COOKIE_SECURE", **development) is False


def test_sslmode_and_the_connect_timeout_reach_the_driver():
    options = setting(
        "DATABASES['default']['OPTIONS']", DATABASE_URL="postgres://u:p@db.example.com/app?sslmode=require"
    )
    assert options == {"sslmode": "require", "connect_timeout": 5, **KEEPALIVES}


# A server that is gone without a word is noticed by the kernel within about 30 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5, "keepalives_count": 3}


def test_the_statement_timeout_is_a_startup_option_on_a_direct_connection():
    options = setting(
        "DATABASES['default']['OPTIONS']",
        DATABASE_URL="postgres://u:p@db.example.com/app",
        DATABASE_STATEMENT_TIMEOUT_MS="15000",
    )
    assert options["options"] == "-c statement_timeout=15000"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_postgresql_applies_the_statement_timeout(db):
    show = "from django.db import connection; c = connection.cursor(); c.execute('SHOW statement_timeout'); print(c.fetchone()[0])"
    # The suite's own test database: the one DATABASE_URL names need not exist.
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    database = {"DATABASE_URL": url, "DATABASE_STATEMENT_TIMEOUT_MS": "1500"}
    result = run("shell", "--verbosity", "0", "-c", show, **database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1500ms"


def test_a_pooled_endpoint_gets_no_server_side_cursors_and_no_startup_options():
    database = setting(
        "DATABASES['default']",
        DATABASE_URL="postgres://u:p@db-pooler.example.com/app?sslmode=require",
        DATABASE_POOLED="true",
        DATABASE_CONNECT_TIMEOUT="3",
        DATABASE_STATEMENT_TIMEOUT_MS="15000",  # left to the role's setting behind a pooler
    )
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["OPTIONS"] == {"sslmode": "require", "connect_timeout": 3, **KEEPALIVES}
    assert database["CONN_HEALTH_CHECKS"] is True


def test_logs_are_json_in_production_and_text_in_development():
    assert setting("LOGGING['handlers']['console']['formatter']") == "json"
    assert setting("LOGGING['handlers']['console']['formatter']", DJANGO_DEBUG="true") == "text"


def test_it_refuses_an_unknown_log_format():
    result = run("check", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text" in result.stderr


def test_a_plain_http_request_is_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/api/tasks")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/tasks"


@pytest.mark.parametrize("path", ["/healthz", "/healthz/", "/readyz", "/readyz/"])
def test_the_platforms_probes_are_answered_over_plain_http(client, db, path):
    # Production's setting, as a fresh process reads it: probes on the instance's own port do
    # not follow a redirect to https.
    from django.test import override_settings

    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=setting("SECURE_REDIRECT_EXEMPT")):
        assert client.get(path).status_code == 200


def test_a_request_the_proxy_marks_https_is_served_with_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_admin_refuses_to_be_framed(client, db):
    assert client.get("/admin/login/")["X-Frame-Options"] == "DENY"


def test_whitenoise_serves_the_admins_static_files(client):
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).strip()


def test_the_api_answers_json_only(alice_client):
    response = alice_client.get("/api/tasks", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("variable", ["DJANGO_SECURE_SSL_REDIRECT", "DATABASE_POOLED"])
def test_it_rejects_a_malformed_switch(variable):
    result = run("check", **{variable: "sometimes", "DATABASE_URL": "postgres://u:p@db.example.com/app"})
    assert result.returncode != 0
    assert f"{variable} must be true or false" in result.stderr


def test_collectstatic_output_is_served_hashed_compressed_and_cached_for_ever(client, db, settings, tmp_path):
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    production = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": production}
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", interactive=False, verbosity=0)

    page = client.get("/admin/login/").content.decode()
    [stylesheet] = [part.split('"')[0] for part in page.split('href="')[1:] if "/admin/css/base." in part]
    assert stylesheet != "/static/admin/css/base.css"  # the hashed name
    response = client.get(stylesheet, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
