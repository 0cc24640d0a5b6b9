"""The Dagster UI as an operator uses it, in a real browser (Debian's Chromium driven by Playwright)
against a real local deployment (`dagster dev`: webserver + daemon, SQLite instance and store, the
sandbox). The story of one partition:

1. materialise `acme|2` from the UI: the run fails on the duplicates check, and the run page names the
   check, the pair, the partition and the command that resolves it;
2. the check's evaluation on the asset's Checks tab shows its partition;
3. resolve the pair with the CLI (a separate process), materialise again from the UI: the run passes;
4. change the filter field to a text field with the CLI (`--no-verify`): the filter sensor's run fails
   and its page names the field and why.

Screenshots of each step are saved under the test's tmp_path (`RESOLVE_SYNC_DOCS_SCREENSHOTS=1` also
copies the ones the README shows into docs/).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from resolve_sync import settings
from resolve_sync.sandbox.fixture import parse_fixture
from resolve_sync.sandbox.server import SandboxServer
from resolve_sync_tests.sandbox_helpers import cli_connection_args
from resolve_sync_tests.sync_helpers import sync_fixture
from resolve_sync_tests.ui.deployment import dagster_dev, partition_keys, runs, wait_for

CHROMIUM = Path(os.environ.get("RESOLVE_SYNC_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() == "true"
DOCS = settings.PROJECT_ROOT / "docs"
README_SHOTS = (
    "1-run-failed-on-duplicates.png",
    "2-check-evaluation-per-partition.png",
    "4-sensor-run-filter.png",
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _browser_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = [
        what
        for what, ok in (("playwright", sync_playwright is not None), (str(CHROMIUM), CHROMIUM.exists()))
        if not ok
    ]
    if missing:
        message = f"browser test needs {', '.join(missing)} (.ci/run installs them)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return sync_playwright


def duplicate_account() -> dict:
    raw = sync_fixture()
    raw["customers"].append(
        {"id": 60, "entityid": "C60", "companyname": "ACME, Inc.", "email": "x@acme.test", "subsidiary": 2}
    )
    return raw


class Operator:
    """The person at the browser and the terminal."""

    def __init__(self, page, url: str, env: dict[str, str], shots: Path) -> None:
        self.page, self.url, self.env, self.shots = page, url, env, shots

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "resolve_sync.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / name), full_page=False)

    def dismiss_welcome(self) -> None:
        skip = self.page.get_by_role("button", name="Skip")
        if skip.count():
            skip.click()

    def materialize(self, partition: str) -> str:
        """Materialise every asset of the group for one partition, as from the group's asset page."""
        before = {r["runId"] for r in runs(self.url)}
        self.page.goto(f"{self.url}/asset-groups/resolve_sync")
        button = self.page.get_by_role("button", name="Materialize all…")
        button.wait_for(timeout=60_000)
        self.page.wait_for_timeout(1500)  # the welcome dialog, if any, opens after the page
        self.dismiss_welcome()
        button.click()
        dialog = self.page.locator("[role=dialog]")
        dialog.get_by_text("Select a partition or create one").click()
        self.page.get_by_text(partition, exact=True).first.click()
        self.page.keyboard.press("Escape")
        dialog.get_by_role("button", name="Launch 1 run").click()
        return wait_for(lambda: {r["runId"] for r in runs(self.url)} - before, 60, "the launched run").pop()

    def finished(self, run_id: str) -> str:
        def status() -> str | None:
            run = next(r for r in runs(self.url) if r["runId"] == run_id)
            return run["status"] if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

        return wait_for(status, 300, f"run {run_id} to finish", every=1)

    def open_run(self, run_id: str, *texts: str) -> None:
        self.page.goto(f"{self.url}/runs/{run_id}")
        for text in texts:
            self.page.get_by_text(text).first.wait_for(timeout=60_000)


def test_a_partition_story_in_the_browser(tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    env = {
        **os.environ,
        "RESOLVE_SYNC_STATE_DIR": str(tmp_path / "state"),
        "RESOLVE_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "RESOLVE_SYNC_SECRET_KEY": Fernet.generate_key().decode(),
    }
    with SandboxServer(parse_fixture(duplicate_account())) as sandbox, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        me = Operator(page, "", env, shots)
        me.cli("db", "upgrade")
        me.cli(*cli_connection_args(sandbox))
        me.cli("connections", "disable", "acme")  # the sensor registers the partition but starts no run
        with dagster_dev(tmp_path, env) as deployment:
            url, home = deployment.url, deployment.home
            me.url = url
            wait_for(lambda: "acme|2" in partition_keys(home), 120, "the connections sensor to add acme|2")
            me.cli("connections", "enable", "acme")

            # 1. materialise from the UI: the duplicates check fails the run, which says why and how to fix it
            failed = me.materialize("acme|2")
            assert me.finished(failed) == "FAILURE"
            me.open_run(failed, "no_duplicate_customers failed", "netsuite:60")
            page.get_by_text("resolve-sync duplicates distinct acme netsuite:10 netsuite:60").first.wait_for()
            me.screenshot("1-run-failed-on-duplicates.png")

            # 2. the check evaluation names its partition
            page.goto(f"{url}/assets/netsuite_customers?view=checks")
            page.get_by_text("no_duplicate_customers").first.click()
            page.get_by_text("acme|2").first.wait_for(timeout=60_000)
            me.screenshot("2-check-evaluation-per-partition.png")

            # 3. resolve with the CLI, materialise again: it passes
            me.cli("duplicates", "distinct", "acme", "netsuite:10", "netsuite:60")
            passed = me.materialize("acme|2")
            assert me.finished(passed) == "SUCCESS"
            me.open_run(passed, "resolve_records")
            me.screenshot("3-run-passed.png")

            # 4. a text field as filter: the sensor's full run fails, naming the field and why
            me.cli("connections", "set-filter", "acme", "custentity_region", "--no-verify")
            sensor_run = wait_for(
                lambda: next(
                    (
                        r["runId"]
                        for r in runs(url)
                        if r["tags"].get("dagster/sensor_name") == "filter_field_sensor"
                    ),
                    None,
                ),
                150,
                "the filter field sensor's run",
                every=2,
            )
            assert me.finished(sensor_run) == "FAILURE"
            me.open_run(sensor_run, "filter_field_id_valid failed", "custentity_region")
            page.get_by_text("not a checkbox").first.wait_for()
            me.screenshot("4-sensor-run-filter.png")
        browser.close()
    if os.environ.get("RESOLVE_SYNC_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        for name in README_SHOTS:
            shutil.copy(shots / name, DOCS / f"ui-{name}")
