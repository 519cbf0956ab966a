"""The API's WSGI app plus `/slow`, a request that stays in flight until the test lets it finish.

Only the gunicorn test serves this; `/slow` exists nowhere else.
"""

import os
import time
from pathlib import Path

from todo_project.wsgi import application as api

SIGNALS = Path(os.environ.get("SLOW_SIGNALS_DIR", "."))


def application(environ, start_response):
    if environ["PATH_INFO"] != "/slow":
        return api(environ, start_response)
    (SIGNALS / "started").touch()
    deadline = time.monotonic() + 20
    while not (SIGNALS / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished"]
