"""Driving `resolve-sync connections connect` as a user would: the command in a subprocess, NetSuite's
consent page in Debian's Chromium (or, where the browser is not the point of the test, posted with httpx)."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from resolve_sync.netsuite.authorize import CLIENT_ID_ENV, CLIENT_SECRET_ENV
from resolve_sync_tests.sandbox_helpers import ACCOUNT_ID, TBA

CHROMIUM = "/usr/bin/chromium"
# The integration record: in NetSuite the consumer key/secret are also the client id/secret.
INTEGRATION_ENV = {CLIENT_ID_ENV: TBA["consumer_key"], CLIENT_SECRET_ENV: TBA["consumer_secret"]}

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not shutil.which("chromium"),
    reason="Debian's chromium is not installed (`apt-get install -y chromium`; .ci/run does it)",
)


class ConnectCommand:
    """`resolve-sync connections connect … --no-browser` running in a subprocess."""

    def __init__(
        self, server: Any, *, merchant: str = "acme", method: str = "oauth2", timeout: float = 60, extra=()
    ) -> None:
        command = [
            sys.executable,
            "-m",
            "resolve_sync.cli",
            "connections",
            "connect",
            merchant,
            "--account",
            ACCOUNT_ID,
            "--method",
            method,
            "--no-browser",
            "--base-url",
            server.base_url,
            "--timeout",
            str(timeout),
            "--timezone",
            server.fixture.timezone,
            *extra,
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **INTEGRATION_ENV},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout.append(line)
            self.lines.put(line)

    def authorization_url(self, timeout: float = 60) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            if line.startswith("  http"):
                return line.strip()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        while text not in "".join(self.stdout):
            self.lines.get(timeout=timeout)

    def answer(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        assert self.process.stderr is not None
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code, "".join(self.stdout), self.process.stderr.read()


def click_in_chromium(url: str, button: str) -> str:
    """Open NetSuite's consent page in Chromium, log in and press `button`; the text the tab ends on."""
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url)
            page.fill("input[name=email]", "admin@merchant.test")
            page.fill("input[name=password]", "correct horse battery staple")
            page.get_by_role("button", name=button).click()
            page.wait_for_url("**/callback?**")  # NetSuite redirected to the command's loopback server
            return page.inner_text("body")
        finally:
            browser.close()


def press_on_consent_page(url: str, decision: str = "allow") -> httpx.Response:
    """The same form post a browser makes, for tests where the browser is not the point."""
    with httpx.Client(timeout=30) as client:
        page = client.get(url)
        consent = re.search(r'name="consent" value="([^"]+)"', page.text)
        assert consent, page.text
        parts = urlsplit(url)
        answer = client.post(
            f"{parts.scheme}://{parts.netloc}{parts.path}",
            data={"consent": consent.group(1), "email": "a@b.test", "password": "pw", "decision": decision},
        )
        assert answer.status_code == 302, answer.text
        return client.get(answer.headers["location"])  # the redirect lands on the command's loopback server
