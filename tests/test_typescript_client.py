"""A TypeScript client typed from the committed openapi.yaml compiles.

openapi-typescript turns the document into types and `tsc` checks tests/typescript/client.ts
against them: list with filters, create, patch, toggle, bulk, stats and the change feed; and
tests/typescript/rejected.ts, bodies and ids the API refuses, which must not compile. A schema change that
would break a Next.js frontend breaks this test first. It needs Node and npm: outside CI it is
skipped without them, in CI (CI=true) it fails instead.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.node import install_once

PROJECT = Path(__file__).parent / "typescript"
# One worker runs the whole module: the types are generated once, into the shared checkout.
pytestmark = pytest.mark.xdist_group("typescript-client")


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must type-check the TypeScript client)")
    pytest.skip(reason)


def _npm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["npm", *args], cwd=PROJECT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def node_project() -> Path:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        _unavailable(f"{' and '.join(missing)} not installed; the TypeScript client test needs Node 20 and npm")
    installed = install_once(PROJECT)
    if installed is not None and installed.returncode != 0:
        _unavailable(f"npm ci failed in {PROJECT}:\n{installed.stderr[-2000:]}")
    generated = _npm("run", "--silent", "generate")  # api.d.ts, from the committed openapi.yaml
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return PROJECT


def test_the_typed_client_compiles_against_types_generated_from_the_schema(node_project):
    checked = _npm("run", "--silent", "check")
    assert checked.returncode == 0, (
        f"client.ts no longer compiles against openapi.yaml:\n{checked.stdout}{checked.stderr}"
    )


def test_a_schema_change_that_breaks_a_frontend_fails_the_check(node_project, tmp_path):
    # The same check against a copy of the types where a task lost its `completed_at`.
    types = (node_project / "api.d.ts").read_text()
    assert "completed_at" in types
    broken = tmp_path / "client"
    shutil.copytree(node_project, broken, ignore=shutil.ignore_patterns("node_modules"))
    (broken / "node_modules").symlink_to(node_project / "node_modules")
    (broken / "api.d.ts").write_text(types.replace("completed_at", "finished_at"))
    checked = subprocess.run(
        ["npm", "run", "--silent", "check"], cwd=broken, capture_output=True, text=True, timeout=600
    )
    assert checked.returncode != 0
    assert "completed_at" in checked.stdout


def test_a_body_the_api_refuses_fails_the_check(node_project, tmp_path):
    # rejected.ts marks each refused body `@ts-expect-error`; without the marks they are errors.
    broken = tmp_path / "client"
    shutil.copytree(node_project, broken, ignore=shutil.ignore_patterns("node_modules"))
    (broken / "node_modules").symlink_to(node_project / "node_modules")
    rejected = (broken / "rejected.ts").read_text()
    (broken / "rejected.ts").write_text(rejected.replace("// @ts-expect-error", "//"))
    checked = subprocess.run(
        ["npm", "run", "--silent", "check"], cwd=broken, capture_output=True, text=True, timeout=600
    )
    errors = [line for line in checked.stdout.splitlines() if line.startswith("rejected.ts(")]
    assert len(errors) == rejected.count("\n// @ts-expect-error"), checked.stdout
