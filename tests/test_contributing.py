"""What a contributor meets first: a README read to the end (the detail lives in docs/), and one
test by name that runs in seconds."""

import os
import subprocess
import sys

from tests.live import ROOT

README_MAX_LINES = 250


def test_the_readme_stays_within_its_line_budget():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


def test_the_readmes_one_test_example_names_a_test_and_one_process():
    text = (ROOT / "README.md").read_text()
    assert "./scripts/test.sh -k test_it_rejects_a_weak_etag_in_if_match -n 0" in text
    assert "def test_it_rejects_a_weak_etag_in_if_match(" in "".join(
        path.read_text() for path in (ROOT / "tests").rglob("test_*.py")
    )


def test_collecting_the_fuzz_tests_draws_no_examples():
    # Schemathesis draws an operation's examples when it makes a test item of it; the fuzz
    # tests load their schemas in fixtures, so collecting them makes one item per test.
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "tests/test_fuzz.py"],
        cwd=ROOT,
        env={**os.environ, "PYTEST_ADDOPTS": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    items = [line for line in collected.stdout.splitlines() if line.startswith("tests/test_fuzz.py::")]
    assert items and not [item for item in items if " /api/" in item], collected.stdout[-2000:]
