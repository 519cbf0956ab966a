#!/bin/sh
# Creates .venv with the pinned dependencies; cheap to repeat (reinstalls only when the
# requirements changed). Sourced by run.sh and bench/run.sh (requirements.txt, what production
# installs) and by test.sh, which sets requirements=requirements-dev.txt first (the same plus
# the test suite's packages). PYTHON picks the interpreter (default: python3 on PATH) and VENV
# the directory (default: .venv), so one checkout can hold one environment per Python.
set -eu
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))." >&2
    exit 1
}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

requirements=${requirements:-requirements.txt}
# One stamp per requirements file, holding the hash of that file and of requirements.txt (which
# requirements-dev.txt includes), so switching between run.sh and test.sh reinstalls nothing.
stamp() { echo "$VENV/.installed-$1"; }
fingerprint() { cat "$1" requirements.txt | "$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'; }
wanted=$(fingerprint "$requirements")
if [ "$(cat "$(stamp "$requirements")" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing dependencies from $requirements into $VENV ..."
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$(stamp "$requirements")"
    # Everything requirements.txt lists is installed now too.
    fingerprint requirements.txt > "$(stamp requirements.txt)"
fi
