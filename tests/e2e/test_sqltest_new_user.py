"""`dbfleet test` as a new user runs it on the example project, in separate processes."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support import cli_process

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "billing"


def test_the_billing_example_tests_pass_and_a_wrong_undo_is_caught(tmp_path):
    project = tmp_path / "billing"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".dbfleet"))

    result = cli_process(project, "test", "--junit", "reports/sql-tests.xml", "--undo-check")
    assert result.exit_code == 0, result.output
    assert "passed, 0 failed, 0 error(s), 0 skipped" in result.stdout
    assert "ok    open receivables count only open invoices" in result.stdout
    assert "ok    undo V6__tenant_region.sql" in result.stdout
    assert "loaded 2 seed file(s)" in result.stderr
    assert not (project / ".dbfleet").exists()  # the scratch database is not the dev one

    root = ET.parse(project / "reports" / "sql-tests.xml").getroot()
    assert root.get("failures") == "0" and int(root.get("tests") or 0) >= 10
    suites = {s.get("name") for s in root.findall("testsuite")}
    assert {"tests/tenants.sql", "tests/invoices.sql", "undo-check"} <= suites

    # An undo script that forgets a table:
    (project / "migrations" / "U3__invoices.sql").write_text("DROP TABLE invoices;\n")
    broken = cli_process(project, "test", "--undo-check")
    assert broken.exit_code == 1
    assert "U3__invoices.sql does not restore the schema before V3__invoices.sql" in broken.stdout
    assert "+CREATE TABLE invoice_lines (" in broken.stdout
    assert "Traceback" not in broken.output


def test_the_billing_example_on_postgresql_with_pgtap(tmp_path, pg_url, postgres_server):
    project = tmp_path / "billing"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".dbfleet"))
    config = project / "dbfleet.toml"
    config.write_text(
        config.read_text()
        .replace('url = "sqlite:///.dbfleet/dev.db"', f'url = "{pg_url}"')
        .replace(
            'default_environment = "dev"',
            f'default_environment = "dev"\nscratch_url = "{postgres_server}"',
        )
    )
    (project / "tests" / "schema.pg").write_text(
        "SELECT plan(3);\n"
        "SELECT has_table('invoices');\n"
        "SELECT col_default_is('tenants', 'region', 'eu'::character varying, 'region defaults to eu');\n"
        "SELECT results_eq('SELECT code FROM plans ORDER BY code', "
        "ARRAY['business', 'free', 'team']::varchar[], 'three plans');\n"
        "SELECT * FROM finish();\n"
    )
    result = cli_process(project, "test", "--junit", "junit.xml")
    assert result.exit_code == 0, result.output
    assert "ok    region defaults to eu" in result.stdout
    root = ET.parse(project / "junit.xml").getroot()
    pgtap = next(s for s in root.findall("testsuite") if s.get("name") == "tests/schema.pg")
    assert (pgtap.get("tests"), pgtap.get("failures")) == ("3", "0")
