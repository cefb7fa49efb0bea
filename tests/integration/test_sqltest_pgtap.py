"""pgTAP files under `dbfleet test`: each assertion a test case; clear when pgTAP cannot run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.integration.test_sqltest_builtin import SEED, make_project, scratch_leftovers
from tests.support import cli

SCHEMA_TEST = """\\set ECHO none
\\set QUIET 1
-- as pg_prove runs it: its own transaction, a plan, finish()
BEGIN;
SELECT plan(5);
SELECT has_table('accounts');
SELECT has_column('accounts', 'note');
SELECT is((SELECT COUNT(*)::int FROM accounts), 3, 'three accounts are seeded');
SELECT skip('no payment provider in tests', 1);
SELECT todo('balances in cents', 1);
SELECT col_type_is('accounts', 'balance', 'bigint');
SELECT * FROM finish();
ROLLBACK;
"""


def test_pgtap_assertions_become_test_cases_with_their_diagnostics(tmp_path, pg_url, request):
    project = make_project(
        tmp_path / "p",
        pg_url,
        request,
        {"schema.pg": SCHEMA_TEST, "plain.sql": "-- test: built-in too\n-- expect: 2\nSELECT 2;\n"},
        seed={"01.sql": SEED},
    )
    junit = tmp_path / "junit.xml"
    result = cli(project, "test", "--junit", str(junit))
    assert result.exit_code == 1, result.output
    assert "3 passed, 1 failed, 0 error(s), 2 skipped" in result.stdout
    assert "tests/schema.pg:8: not ok 3 - three accounts are seeded" in result.stdout
    assert "have: 2" in result.stdout and "want: 3" in result.stdout
    assert scratch_leftovers(pg_url) == []

    suites = {s.get("name"): s for s in ET.parse(junit).getroot().findall("testsuite")}
    pgtap = suites["tests/schema.pg"]
    assert (pgtap.get("tests"), pgtap.get("failures"), pgtap.get("skipped")) == ("5", "1", "2")
    names = [c.get("name") for c in pgtap.findall("testcase")]
    assert names[0] == "Table accounts should exist" and "three accounts are seeded" in names
    failed = next(c for c in pgtap.findall("testcase") if c.find("failure") is not None)
    assert failed.get("line") == "8" and "want: 3" in (failed.find("failure").text or "")
    assert suites["tests/plain.sql"].get("failures") == "0"


def test_a_broken_statement_a_short_plan_and_xunit_functions(tmp_path, pg_url, request):
    tests = {
        "broken.pg": "SELECT plan(2);\nSELECT pass('first');\nSELECT nonsense(;\nSELECT pass('x');\n",
        "short.sql": "SELECT plan(3);\nSELECT ok(true, 'only one');\nSELECT * FROM finish();\n",
        "xunit.sql": (
            "CREATE FUNCTION test_accounts_exist() RETURNS SETOF TEXT LANGUAGE sql AS $$\n"
            "  SELECT has_table('accounts') UNION ALL SELECT has_table('nothing_here')\n"
            "$$;\n"
            "SELECT * FROM runtests('^test_');\n"
        ),
    }
    project = make_project(tmp_path / "p", pg_url, request, tests)
    result = cli(project, "test")
    assert result.exit_code == 1, result.output
    assert "tests/broken.pg:3: statement failed: syntax error" in result.stdout
    assert "tests/short.sql: planned 3 assertion(s) but ran 1" in result.stdout
    assert "FAIL  public.test_accounts_exist" in result.stdout
    assert "Table nothing_here should exist" in result.stdout  # the subtest, in the details


def test_pgtap_files_on_another_engine_are_skipped_with_one_line(tmp_path, sqlite_url, request):
    project = make_project(
        tmp_path / "p",
        sqlite_url,
        request,
        {"schema.pg": "SELECT plan(1);\nSELECT pass('x');\n", "t.sql": "-- test: a\nSELECT 1;\n"},
    )
    result = cli(project, "test")
    assert result.exit_code == 0, result.output
    assert "pgTAP runs on PostgreSQL only; this project uses SQLite" in result.stderr
    assert "1 passed, 0 failed, 0 error(s), 1 skipped" in result.stdout


def test_a_server_without_pgtap_reports_the_files_as_errors_in_one_line(
    tmp_path, pg_url, request, monkeypatch
):
    # The test server has pgTAP; a server without it answers `available` with False.
    from dbfleet.sqltest import pgtap

    monkeypatch.setattr(pgtap, "available", lambda conn: False)
    project = make_project(
        tmp_path / "p", pg_url, request, {"a.pg": "SELECT plan(1);\nSELECT pass('x');\n"}
    )
    junit = tmp_path / "junit.xml"
    result = cli(project, "test", "--junit", str(junit))
    assert result.exit_code == 1
    notes = [line for line in result.stderr.splitlines() if "pgTAP" in line]
    assert len(notes) == 1
    assert "has no pgTAP extension: 1 pgTAP file(s) not run" in notes[0]
    assert "apt-get install postgresql-15-pgtap" in notes[0]
    assert "0 passed, 0 failed, 1 error(s), 0 skipped" in result.stdout
    (suite,) = ET.parse(junit).getroot().findall("testsuite")
    assert suite.get("errors") == "1"
