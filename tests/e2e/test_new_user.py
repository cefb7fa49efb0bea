"""The CLI as a new user runs it, in separate processes: init, migrate, edit, validate, repair, undo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import Result, cli_process, tables


def dbfleet(project: Path, *args: str) -> Result:
    return cli_process(project, *args)


@pytest.mark.smoke
def test_new_user_walkthrough(tmp_path, db_url):
    project = tmp_path / "shop"
    init = subprocess.run(
        [sys.executable, "-m", "dbfleet", "init", str(project), "--url", db_url],
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stderr
    assert (project / "dbfleet.toml").exists()
    assert ".dbfleet/" in (project / ".gitignore").read_text()
    migrations = project / "migrations"
    (migrations / "V2__customers.sql").write_text(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);\n"
    )
    (migrations / "U2__customers.sql").write_text("DROP TABLE customers;\n")
    (migrations / "V3__customer_name.sql").write_text(
        "ALTER TABLE customers ADD COLUMN name VARCHAR(100);\n"
    )
    (migrations / "U3__customer_name.sql").write_text("ALTER TABLE customers DROP COLUMN name;\n")

    migrate = dbfleet(project, "migrate")
    assert migrate.exit_code == 0, migrate.output
    assert "applied 3 migration(s)" in migrate.stderr
    status = dbfleet(project, "status")
    assert status.exit_code == 0 and "current version: 3; 0 pending" in status.stdout

    (migrations / "V3__customer_name.sql").write_text(
        "ALTER TABLE customers ADD COLUMN name VARCHAR(120);\n"
    )
    validate = dbfleet(project, "validate")
    assert validate.exit_code == 1
    assert "V3__customer_name.sql was edited after it was applied" in validate.stderr
    assert "Traceback" not in validate.output

    repair = dbfleet(project, "repair")
    assert repair.exit_code == 0 and "realigned" in repair.stderr
    assert dbfleet(project, "validate").exit_code == 0

    undo = dbfleet(project, "undo", "--to", "1")
    assert undo.exit_code == 0, undo.output
    assert "customers" not in tables(db_url) and "example" in tables(db_url)
    data = json.loads(dbfleet(project, "status", "--json").stdout)
    assert data["current_version"] == "1"
    assert [m["state"] for m in data["migrations"]] == ["applied", "undone", "undone"]


def test_version_is_fast_to_answer():
    out = subprocess.run(
        [sys.executable, "-m", "dbfleet", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("dbfleet ")


def test_no_project_says_how_to_start(tmp_path):
    result = cli_process(tmp_path, "status")
    assert result.exit_code == 1
    assert "no dbfleet.toml found" in result.stderr and "dbfleet init" in result.stderr


def test_help_lists_the_commands(tmp_path):
    result = cli_process(tmp_path, "--help")
    assert result.exit_code == 0
    for command in ("init", "status", "migrate", "validate", "repair", "undo", "baseline"):
        assert command in result.stdout


def test_without_a_config_file_url_and_migrations_folder_are_enough(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "V1__t.sql").write_text("CREATE TABLE t (id INTEGER);\n")
    url = f"sqlite:///{tmp_path / 'adhoc.db'}"
    result = cli_process(tmp_path, "migrate", "--url", url)
    assert result.exit_code == 0, result.output
    assert "t" in tables(url)
