"""Exactly once: many dbfleet processes against one database apply each migration once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import history, write_project

MIGRATIONS = {f"V{i}__step_{i}.sql": f"CREATE TABLE step_{i} (id INTEGER);\n" for i in range(1, 21)}


@pytest.mark.smoke
def test_eight_concurrent_migrates_apply_each_migration_once_and_all_exit_zero(tmp_path, db_url):
    project = write_project(tmp_path, db_url, MIGRATIONS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBFLEET_")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dbfleet", "-C", str(project), "migrate"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0] * 8, results
    rows = history(db_url)
    assert [r[0] for r in rows] == [str(i) for i in range(1, 21)]
    assert all(r[2] for r in rows)
