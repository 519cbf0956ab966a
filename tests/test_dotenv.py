"""The development configuration in .env: read by every process in the checkout, the environment
winning over it, never by a test run; a configuration mistake is one line, not a traceback."""

import os
import subprocess
import sys

import jwt

from tests.auth import ORIGIN
from tests.live import ROOT, free_port

FILE_SECRET = "a-development-secret-from-the-dotenv-file-0123456789"
SHELL_SECRET = "a-secret-exported-in-the-shell-wins-over-the-file-0123456789"


def clean_environment(**variables: str) -> dict[str, str]:
    """What a new terminal has (`env -i HOME=... PATH=...`), plus the given variables."""
    return {"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/bin:/bin", **variables}


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def write_dotenv(tmp_path, text: str) -> str:
    path = tmp_path / ".env"
    path.write_text(text)
    return str(path)


def test_devtoken_works_from_a_new_shell_with_the_dotenv_file(tmp_path):
    dotenv = write_dotenv(tmp_path, f"DJANGO_DEBUG=true\nBETTER_AUTH_SECRET={FILE_SECRET}   # a comment\n")
    result = run([sys.executable, "manage.py", "devtoken", "bob"], clean_environment(DOTENV_FILE=dotenv))
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), FILE_SECRET, algorithms=["HS256"], audience=ORIGIN)
    assert claims["sub"] == "bob"


def test_the_environment_wins_over_the_dotenv_file(tmp_path):
    dotenv = write_dotenv(tmp_path, f"DJANGO_DEBUG=true\nBETTER_AUTH_SECRET={FILE_SECRET}\n")
    env = clean_environment(DOTENV_FILE=dotenv, BETTER_AUTH_SECRET=SHELL_SECRET)
    result = run([sys.executable, "manage.py", "devtoken", "bob"], env)
    assert result.returncode == 0, result.stderr
    assert jwt.decode(result.stdout.strip(), SHELL_SECRET, algorithms=["HS256"], audience=ORIGIN)["sub"] == "bob"


def test_a_test_run_never_reads_the_dotenv_file(tmp_path):
    """Settings imported in a pytest process ignore .env, and the processes tests start are told to."""
    dotenv = write_dotenv(tmp_path, "DJANGO_DEBUG=true\n")
    code = "import pytest; from django.conf import settings; print(settings.DEBUG)"
    env = clean_environment(
        DOTENV_FILE=dotenv,
        DJANGO_SETTINGS_MODULE="todo_project.settings",
        DJANGO_SECRET_KEY="a-production-secret-key-that-is-long-and-random-0123456789",
        BETTER_AUTH_SECRET=SHELL_SECRET,
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL="sqlite:///db.sqlite3",
        BETTER_AUTH_URL=ORIGIN,
        CORS_ALLOWED_ORIGINS=ORIGIN,
    )
    result = run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert os.environ["DOTENV_FILE"] == ""


def test_manage_py_names_a_missing_production_setting_in_one_line():
    result = run([sys.executable, "manage.py", "check"], clean_environment(DOTENV_FILE=""))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "BETTER_AUTH_SECRET is not set" in result.stderr
    assert "DATABASE_URL is not set" in result.stderr and "BETTER_AUTH_URL is not set" in result.stderr


def test_gunicorn_names_a_missing_production_setting_in_one_line_and_stops():
    env = clean_environment(DOTENV_FILE="", WEB_CONCURRENCY="1")
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{free_port()}"]
    result = run([*command, "todo_project.wsgi"], env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "DJANGO_SECRET_KEY" in line]
    assert len(errors) == 1 and "Configuration error: Refusing to start" in errors[0]
    assert "DATABASE_URL is not set" in errors[0] and "BETTER_AUTH_URL is not set" in errors[0]
