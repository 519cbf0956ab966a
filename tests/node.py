"""Node projects the suite drives: installed from their lockfiles once, whichever worker asks first."""

import fcntl
import os
import subprocess
from pathlib import Path


def install_once(project: Path) -> subprocess.CompletedProcess | None:
    """`npm ci` in `project` unless its node_modules exists; None when nothing had to run.

    Install scripts are skipped: the suite's projects are plain JavaScript, so a first run
    compiles nothing (tests/test_requirements.py keeps their lockfiles free of such scripts).

    Parallel test workers share the checkout, so the install holds a lock on the project's
    folder: a second worker waits for the first install instead of running its own over it.
    """
    folder = os.open(project, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        if (project / "node_modules").is_dir():
            return None
        return subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        os.close(folder)
