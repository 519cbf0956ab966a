#!/bin/sh
# Creates .venv with the pinned dependencies; cheap to repeat (reinstalls only when
# requirements.txt changed). Sourced by run.sh and test.sh.
set -eu
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))." >&2
    exit 1
}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv

stamp=.venv/.requirements-installed
wanted=$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("requirements.txt", "rb").read()).hexdigest())')
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing dependencies into .venv ..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$wanted" > "$stamp"
fi
