"""The example project's fleet, as a new user tries it: roll out, isolate, retry, kill -9, resume."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.support import cli_process

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "billing"


def _ledger(root: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(root / ".dbfleet" / "state.db") as conn:
        return conn.execute("SELECT tenant, status FROM fleet_ledger").fetchall()


def test_the_billing_fleet_rolls_out_isolates_a_broken_tenant_and_recovers(tmp_path: Path) -> None:
    root = tmp_path / "billing"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".dbfleet"))

    first = cli_process(root, "fleet", "migrate", "--env", "fleet", "--target", "5")
    assert first.exit_code == 0, first.output
    assert "wave 1 (canary)" in first.stderr and "skipped (enabled = false): wayne" in first.stderr

    with sqlite3.connect(root / ".dbfleet" / "fleet" / "globex.db") as conn:
        conn.execute("ALTER TABLE tenants ADD COLUMN region TEXT")  # a hand-made change
    broken = cli_process(root, "fleet", "migrate", "--env", "fleet")
    assert broken.exit_code == 1
    assert "FAILED  globex" in broken.stderr and "duplicate column name" in broken.stderr
    assert "5 ok, 1 failed" in broken.stderr

    status = json.loads(cli_process(root, "fleet", "status", "--env", "fleet", "--json").stdout)
    versions = {t["tenant"]: t["version"] for t in status["tenants"]}
    assert versions["globex"] == "5" and versions["acme"] == "6"
    assert status["by_version"] == {"5": 1, "6": 5}

    drift = cli_process(root, "fleet", "drift", "--env", "fleet")
    assert drift.exit_code == 2 and "globex: differs from the template" in drift.stdout

    with sqlite3.connect(root / ".dbfleet" / "fleet" / "globex.db") as conn:
        conn.execute("ALTER TABLE tenants DROP COLUMN region")
    retried = cli_process(root, "fleet", "retry", "--failed", "--env", "fleet")
    assert retried.exit_code == 0, retried.output
    assert cli_process(root, "fleet", "verify", "--env", "fleet").exit_code == 0
    assert cli_process(root, "fleet", "drift", "--env", "fleet").exit_code == 0

    # Undo in a process killed with SIGKILL part-way, then resumed: consistent at the end.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dbfleet",
            "-C",
            str(root),
            "fleet",
            "undo",
            "--env",
            "fleet",
            "--to",
            "3",
            "--log-format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if json.loads(line).get("tenant") == "(template)" and "finished" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.1)
    resumed = cli_process(root, "fleet", "resume", "--env", "fleet")
    assert resumed.exit_code == 0, resumed.output
    final = json.loads(cli_process(root, "fleet", "status", "--env", "fleet", "--json").stdout)
    assert final["by_version"] == {"3": 6} and final["template_version"] == "3"
    assert cli_process(root, "fleet", "verify", "--env", "fleet").exit_code == 0
