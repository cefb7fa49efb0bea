"""`dbfleet drift`: out-of-band changes found, explained, and undone by --fix-sql, on every engine."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lawcheck import run_script
from tests.support import cli, query, scratch_setting, write_project

MIGRATIONS = {
    "V1__customers.sql": "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100));\n",
    "V2__orders.sql": "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);\n",
}


def project_for(tmp_path: Path, url: str) -> Path:
    return write_project(tmp_path / "p", url, MIGRATIONS, extra=scratch_setting(url))


def test_drift_is_found_explained_and_fixed(tmp_path, db_url):
    project = project_for(tmp_path, db_url)
    assert cli(project, "migrate").exit_code == 0
    clean = cli(project, "drift")
    assert clean.exit_code == 0, clean.output
    assert "no drift" in clean.stderr and "at 2" in clean.stderr

    query(db_url, "CREATE INDEX hotfix ON orders (customer_id)")
    query(db_url, "ALTER TABLE customers ADD COLUMN vip INTEGER")
    found = cli(project, "drift", "--fix-sql", str(tmp_path / "fix.sql"))
    assert found.exit_code == 2, found.output
    assert "hotfix" in found.stdout and "vip" in found.stdout
    assert "added outside the migrations" in found.stdout or "index hotfix added" in found.stdout
    data = json.loads(cli(project, "drift", "--json").stdout)
    assert data["drifted"] and data["version"] == "2"
    assert data["differences"]

    run_script(db_url, (tmp_path / "fix.sql").read_text())  # a DBA applies the fix
    after = cli(project, "drift")
    assert after.exit_code == 0, after.output


def test_drift_of_a_baselined_target_is_one_clear_line(tmp_path, sqlite_url):
    project = project_for(tmp_path, sqlite_url)
    query(sqlite_url, "CREATE TABLE legacy (id INTEGER PRIMARY KEY)")
    assert cli(project, "baseline", "--version", "1").exit_code == 0
    result = cli(project, "drift")
    assert result.exit_code == 1
    assert "baselined at version 1" in result.stderr and "Traceback" not in result.output
