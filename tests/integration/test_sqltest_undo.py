"""`dbfleet test --undo-check`: each U script must restore the schema before its V script."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.integration.test_sqltest_builtin import MIGRATIONS, make_project, scratch_leftovers
from tests.support import cli

UNDO = {
    **MIGRATIONS,
    "U1__accounts.sql": "DROP TABLE accounts;\n",
    "U2__notes.sql": "ALTER TABLE accounts DROP COLUMN note;\n",
    "V3__audit.sql": (
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, what VARCHAR(100));\n"
        "ALTER TABLE accounts ADD COLUMN closed_on DATE;\n"
    ),
    "U3__audit.sql": "DROP TABLE audit;\nALTER TABLE accounts DROP COLUMN closed_on;\n",
}


def test_correct_undo_scripts_pass(tmp_path, db_url, request):
    project = make_project(tmp_path / "p", db_url, request, {}, migrations=UNDO)
    result = cli(project, "test", "--undo-check")
    assert result.exit_code == 0, result.output
    assert "3 passed, 0 failed" in result.stdout
    assert "ok    undo V3__audit.sql" in result.stdout
    assert scratch_leftovers(db_url) == []


def test_a_wrong_undo_script_is_caught_with_a_diff(tmp_path, db_url, request):
    wrong = {**UNDO, "U3__audit.sql": "ALTER TABLE accounts DROP COLUMN closed_on;\n"}
    project = make_project(tmp_path / "p", db_url, request, {}, migrations=wrong)
    junit = tmp_path / "junit.xml"
    result = cli(project, "test", "--undo-check", "--junit", str(junit))
    assert result.exit_code == 1, result.output
    assert "FAIL  undo V3__audit.sql" in result.stdout
    assert "U3__audit.sql does not restore the schema before V3__audit.sql" in result.stdout
    assert "+++ after U3__audit.sql" in result.stdout
    diff_lines = [ln.strip() for ln in result.stdout.splitlines() if ln.strip().startswith("+")]
    assert any("audit" in ln and "CREATE TABLE" in ln for ln in diff_lines), result.stdout
    # Reported once, at its version: V1 and V2 still pass around the leftover table.
    assert "ok    undo V1__accounts.sql" in result.stdout
    assert "ok    undo V2__notes.sql" in result.stdout
    assert "2 passed, 1 failed" in result.stdout
    assert scratch_leftovers(db_url) == []
    (suite,) = ET.parse(junit).getroot().findall("testsuite")
    assert suite.get("name") == "undo-check" and suite.get("failures") == "1"


def test_versions_without_undo_scripts_are_not_checkable_unless_required(
    tmp_path, sqlite_url, request
):
    migrations = {k: v for k, v in UNDO.items() if k != "U2__notes.sql"}
    project = make_project(tmp_path / "p", sqlite_url, request, {}, migrations=migrations)
    result = cli(project, "test", "--undo-check")
    assert result.exit_code == 0, result.output
    assert "skip  undo V2__notes.sql  (no undo script U2" in result.stdout
    assert "(not checked: undoing stops at V2__notes.sql" in result.stdout
    assert "1 passed, 0 failed, 0 error(s), 2 skipped" in result.stdout
    required = cli(project, "test", "--undo-check", "--require-undo")
    assert required.exit_code == 1
    assert "V2__notes.sql has no undo script (--require-undo)" in required.stdout


def test_an_undo_script_that_fails_is_reported_and_the_walk_stops(tmp_path, sqlite_url, request):
    broken = {**UNDO, "U2__notes.sql": "ALTER TABLE accounts DROP COLUMN nothing;\n"}
    project = make_project(tmp_path / "p", sqlite_url, request, {}, migrations=broken)
    result = cli(project, "test", "--undo-check")
    assert result.exit_code == 1
    assert "U2__notes.sql failed: U2__notes.sql:1: statement 1 failed" in result.stdout
    assert "(not checked: the undo of V2__notes.sql failed)" in result.stdout


@pytest.mark.parametrize("to", ["2"])
def test_undo_check_stops_at_to(tmp_path, sqlite_url, request, to):
    project = make_project(tmp_path / "p", sqlite_url, request, {}, migrations=UNDO)
    result = cli(project, "test", "--undo-check", "--to", to)
    assert result.exit_code == 0, result.output
    assert "V3__audit" not in result.stdout and "2 passed" in result.stdout


def test_a_migration_that_fails_on_the_way_up_is_reported_not_raised(tmp_path, sqlite_url, request):
    broken = {**UNDO, "V3__audit.sql": "CREATE TABLE audit (id INTEGER PRIMARY KEY;\n"}
    project = make_project(tmp_path / "p", sqlite_url, request, {}, migrations=broken)
    result = cli(project, "test", "--undo-check")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ERR undo check: undo V3__audit.sql" in result.stdout
    assert "V3__audit.sql fails: V3__audit.sql:1: statement 1 failed" in result.stdout


def test_a_wrong_undo_script_comes_with_the_statements_it_lacks(tmp_path, db_url, request):
    wrong = {**UNDO, "U3__audit.sql": "ALTER TABLE accounts DROP COLUMN closed_on;\n"}
    project = make_project(tmp_path / "p", db_url, request, {}, migrations=wrong)
    result = cli(project, "test", "--undo-check")
    assert result.exit_code == 1
    assert "to restore it, U3__audit.sql would also have to run (dbfleet diff):" in result.stdout
    fix = result.stdout.split("(dbfleet diff):", 1)[1].split("---", 1)[0]
    assert "DROP TABLE" in fix and "audit" in fix, result.stdout
