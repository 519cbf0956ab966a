"""Just enough W3C WebDriver to drive headless Chromium through chromedriver, with the standard library.

WebDriver is JSON over HTTP, and the admin test needs a dozen of its calls; a client library
(selenium brings a dozen packages) would do no more here.
"""

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the key WebDriver names an element by

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
]


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)" if missing else None


class Browser:
    """One headless Chromium session. Finding an element waits for it to appear (up to 10 s)."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self._driver = subprocess.Popen(
            [CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._base = f"http://127.0.0.1:{port}"
        self._wait_until_ready()
        options = {"binary": CHROMIUM, "args": [*CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"]}
        capabilities = {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}
        self._session = self._call("POST", "/session", {"capabilities": capabilities})["sessionId"]
        self._base += f"/session/{self._session}"
        self._call("POST", "/timeouts", {"implicit": 10_000})

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self._call("GET", "/status")["ready"]:
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("chromedriver did not start")

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self._base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["value"]

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def _find(self, css: str) -> str:
        return self._call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def type(self, css: str, text: str) -> None:
        self._call("POST", f"/element/{self._find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self._call("POST", f"/element/{self._find(css)}/click", {})

    def text(self, css: str = "body") -> str:
        return self._call("GET", f"/element/{self._find(css)}/text")

    def wait_for_url(self, fragment: str) -> None:
        """Waits until a click's navigation has reached a URL containing `fragment`."""
        deadline = time.monotonic() + 10
        while fragment not in self._call("GET", "/url"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the browser never reached a URL with {fragment!r}")
            time.sleep(0.05)

    def run_async(self, script: str, *args):
        """Runs `script` in the page; it answers by calling its last argument, which this returns."""
        return self._call("POST", "/execute/async", {"script": script, "args": list(args)})

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))

    def quit(self) -> None:
        try:
            self._call("DELETE", "")
        finally:
            self._driver.terminate()
            self._driver.wait(timeout=20)
            shutil.rmtree(self._profile, ignore_errors=True)
