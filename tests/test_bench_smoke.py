"""The benchmark's one command works end to end (smoke mode: tiny data, a second a run, no timing checked)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the benchmark runs on PostgreSQL (set DATABASE_URL to run it)"
    ),
    pytest.mark.skipif(
        shutil.which("wrk") is None and os.environ.get("CI") != "true",
        reason="wrk is not installed (apt-get install wrk); CI installs it",
    ),
]


def test_the_benchmark_runs_end_to_end_in_smoke_mode(tmp_path):
    settings = connection.settings_dict
    server = f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    database = f"{settings['NAME']}_bench_smoke"  # beside this suite's own, never another run's

    finished = subprocess.run(
        ["./bench/run.sh", "--smoke", "--postgres", server, "--database", database, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "the API and the baseline answer the same JSON bytes" in finished.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    for scenario in ["list", "get", "create", "toggle", "mixed"]:
        for name in ["api", "baseline"]:
            run = results["cells"][f"{scenario}@4"][name]
            assert run["requests"] > 0, (scenario, name)
            assert run["status"] == run["errors"] == 0, (scenario, name, run)
    assert [run["think_ms"] for run in results["connections"]] == [[100, 300], [200, 400]]
    for run in results["connections"]:
        assert run["api"]["requests"] > 0 and run["api"]["errors"] == 0, run
    assert "keep-alive connections, mixed" in (tmp_path / "report.md").read_text()
    assert results["queries"]
    assert (tmp_path / "report.md").read_text().startswith("# Benchmark")
    assert (tmp_path / "latency.png").read_bytes().startswith(b"\x89PNG")
