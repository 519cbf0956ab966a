"""An operator uses the admin in a real browser: signs in, finds a task, deactivates a user.

Headless Chromium against a live server; screenshots land in test-artifacts/. Skipped where
Chromium is not installed, except in CI (CI=true), where it must run.
"""

import os
from pathlib import Path

import pytest

from accounts.models import User
from tests.auth import client_for
from tests.tasks.factories import make_task
from tests.webdriver import Browser, chromium_missing

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "olivias long operator password"

# The live server starts whitenoise before the tests' settings apply; it serves no static file here.
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")

if (missing := chromium_missing()) and os.environ.get("CI") != "true":
    pytest.skip(missing, allow_module_level=True)


@pytest.fixture
def browser():
    browser = Browser()
    yield browser
    browser.quit()


@pytest.fixture
def olivia(transactional_db) -> User:
    return User.objects.create_superuser(username="olivia", password=PASSWORD)


def test_an_operator_signs_in_finds_a_task_and_deactivates_a_user(live_server, browser, olivia, alice, bob):
    make_task(alice, title="Buy milk")
    make_task(bob, title="Fix the bike")

    browser.open(f"{live_server.url}/admin/")
    browser.type("#id_username", "olivia")
    browser.type("#id_password", PASSWORD)
    browser.click("#login-form [type=submit]")
    assert "WELCOME, OLIVIA" in browser.text("#user-tools").upper()
    browser.screenshot(ARTIFACTS / "admin-1-signed-in.png")

    browser.open(f"{live_server.url}/admin/tasks/task/")
    browser.type("#searchbar", "milk")
    browser.click("#changelist-search [type=submit]")
    browser.wait_for_url("q=milk")
    results = browser.text("#result_list")
    assert "Buy milk" in results and "Fix the bike" not in results
    browser.screenshot(ARTIFACTS / "admin-2-task-search.png")

    browser.open(f"{live_server.url}/admin/accounts/user/?q=bob")
    browser.click(f"input.action-select[value='{bob.pk}']")
    browser.click("select[name=action] option[value=deactivate]")
    browser.click("button[name=index]")
    assert "Deactivated 1 user(s)" in browser.text(".messagelist")
    browser.screenshot(ARTIFACTS / "admin-3-user-deactivated.png")

    bob.refresh_from_db()
    assert not bob.is_active
    assert client_for(bob).get("/api/tasks").status_code == 403
    assert client_for(alice).get("/api/tasks").status_code == 200
