#!/bin/sh
# The benchmark in one command: ./bench/run.sh [--smoke | --data large | --soak 300 | --help]
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and wrk (installed here if missing).
set -eu
cd "$(dirname "$0")/.."
. scripts/setup.sh

if ! command -v wrk >/dev/null 2>&1; then
    echo "Installing wrk ..."
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi
stamp=.venv/.bench-requirements-installed
wanted=$(cat requirements.txt bench/requirements.txt | .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
    echo "$wanted" > "$stamp"
fi
# 2,000 keep-alive connections need more than the usual 1,024 open files, in wrk and gunicorn alike.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec .venv/bin/python bench/run.py "$@"
