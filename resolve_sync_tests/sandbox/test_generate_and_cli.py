"""Demo data generation and `resolve-sync sandbox serve` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from resolve_sync.sandbox.account import SandboxAccount
from resolve_sync.sandbox.fixture import load_fixture
from resolve_sync_tests.sandbox_helpers import ADMIN_TOKEN

CLI = str(Path(sys.executable).parent / "resolve-sync")


def test_generated_fixture_loads_and_matches_the_arguments(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    result = subprocess.run(
        [
            CLI,
            "sandbox",
            "generate",
            "--customers",
            "400",
            "--invoices",
            "3000",
            "--seed",
            "5",
            "--as-of",
            "2026-11-26",
            "-o",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "400 customers, 3000 invoices" in result.stdout
    account = SandboxAccount(load_fixture(path))
    try:
        assert account.count("customer") == 400
        assert account.count("transaction") == 3000
        reader = account.reader()
        assert reader.execute("SELECT COUNT(*) FROM subsidiary WHERE iselimination = 'T'").fetchone()[0] == 1
        assert reader.execute("SELECT COUNT(*) FROM subsidiary WHERE iselimination = 'F'").fetchone()[0] >= 3
        inactive = reader.execute("SELECT COUNT(*) FROM customer WHERE isinactive = 'T'").fetchone()[0]
        assert 5 <= inactive <= 45
        assert (
            reader.execute(
                "SELECT COUNT(*) FROM customersubsidiaryrelationship WHERE isprimarysub = 'F'"
            ).fetchone()[0]
            > 0
        )
        assert reader.execute("SELECT COUNT(*) FROM customer WHERE parent IS NOT NULL").fetchone()[0] > 0
        statuses = {s for (s,) in reader.execute('SELECT DISTINCT status FROM "transaction"')}
        assert {"A", "B"} <= statuses
        oldest = reader.execute('SELECT MIN(trandate) FROM "transaction"').fetchone()[0]
        assert oldest < "2025-11-26"  # 18 months of invoices, beyond the 12-month window
    finally:
        account.close()
    again = tmp_path / "again.json"
    subprocess.run(
        [
            CLI,
            "sandbox",
            "generate",
            "--customers",
            "400",
            "--invoices",
            "3000",
            "--seed",
            "5",
            "--as-of",
            "2026-11-26",
            "-o",
            str(again),
        ],
        check=True,
        capture_output=True,
    )
    assert path.read_bytes() == again.read_bytes()  # deterministic


def test_serve_prints_the_base_url_first(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    subprocess.run(
        [CLI, "sandbox", "generate", "--customers", "20", "--invoices", "50", "-o", str(path)],
        check=True,
        capture_output=True,
    )
    admin_token = json.loads(path.read_text())["admin_token"]
    process = subprocess.Popen(
        [CLI, "sandbox", "serve", str(path), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        stats = httpx.get(
            f"{base_url}/_sandbox/stats", headers={"X-Sandbox-Admin-Token": admin_token}, timeout=30
        )
        assert stats.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_broken_fixture_is_refused_with_the_record_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"account_id": "1", "admin_token": ADMIN_TOKEN, "customers": [{"id": 1}]}))
    result = subprocess.run([CLI, "sandbox", "serve", str(path)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "customers[0] is missing 'entityid'" in result.stderr
