"""`dbfleet lint` as a new user meets it, in separate processes, on a PostgreSQL project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import cli_process, query, write_project

SCHEMA = Path(__file__).parent.parent / "fixtures" / "lint" / "sarif-schema-2.1.0.json"
V1 = """\
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer text NOT NULL,
    legacy_code text
);
"""
V2 = """\
SET lock_timeout = '2s';
CREATE INDEX invoices_customer ON invoices (customer);
ALTER TABLE invoices DROP COLUMN legacy_code;
"""


@pytest.mark.postgres
def test_risky_migration_is_flagged_explained_suppressed_and_reported_as_sarif(tmp_path, pg_url):
    project = write_project(tmp_path / "billing", pg_url, {"V1__invoices.sql": V1})
    assert cli_process(project, "migrate").exit_code == 0
    query(pg_url, "INSERT INTO invoices (customer) SELECT 'c' || g FROM generate_series(1, 5000) g")
    query(pg_url, "ANALYZE invoices")
    (project / "migrations" / "V2__customer_index.sql").write_text(V2)

    # Both risks are found, each at file:line with the safe alternative; exit 3 fails CI.
    lint = cli_process(project, "lint")
    assert lint.exit_code == 3, lint.output
    assert (
        "migrations/V2__customer_index.sql:2:35: error[DF201 create-index-without-concurrently]"
        in lint.stdout
    )
    assert "migrations/V2__customer_index.sql:3:13: error[DF102 drop-column]" in lint.stdout
    assert "help: CREATE INDEX CONCURRENTLY" in lint.stdout
    assert "help: Remove every use of the column from the application" in lint.stdout
    assert "V1__invoices.sql" not in lint.stdout  # the table is new there: nothing to lock

    # With the environment, findings say how big the table is there.
    sized = cli_process(project, "lint", "--env", "dev")
    assert "locks writes on invoices (5 k rows, " in sized.stdout, sized.output

    # The user reads why, then suppresses the index finding with a reason.
    explain = cli_process(project, "lint", "--explain", "DF201")
    assert explain.exit_code == 0 and "blocks every write" in explain.stdout
    (project / "migrations" / "V2__customer_index.sql").write_text(
        V2.replace(
            "CREATE INDEX",
            "-- dbfleet:ignore DF201 invoices is small, checked on 2026-11-20\nCREATE INDEX",
        )
    )
    lint = cli_process(project, "lint")
    assert "DF201" not in lint.stdout and "DF102" in lint.stdout
    assert lint.stdout.strip().endswith("lint failed: 2 files, 1 error, 0 warnings, 1 suppressed")

    # Without a reason, the suppression is an error of its own.
    (project / "migrations" / "V2__customer_index.sql").write_text(
        V2.replace("CREATE INDEX", "-- dbfleet:ignore DF201\nCREATE INDEX")
    )
    assert "error[DF003 suppression-without-reason]" in cli_process(project, "lint").stdout

    # SARIF for code scanning: valid 2.1.0, the suppressed finding kept with its justification.
    (project / "migrations" / "V2__customer_index.sql").write_text(
        V2.replace("CREATE INDEX", "-- dbfleet:ignore DF201 small table\nCREATE INDEX")
    )
    sarif = cli_process(project, "lint", "--format", "sarif", "--output", "lint.sarif")
    assert sarif.exit_code == 3
    log = json.loads((project / "lint.sarif").read_text())
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["DF201"]["suppressions"] == [
        {"kind": "inSource", "justification": "small table"}
    ]
    assert results["DF102"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    import jsonschema

    jsonschema.validate(log, json.loads(SCHEMA.read_text()))

    # GitHub annotations for the pull request.
    github = cli_process(project, "lint", "--format", "github")
    assert (
        "::error file=migrations/V2__customer_index.sql,line=4,col=13,title=DF102 drop-column::"
        in github.stdout
    )


def test_the_example_project_lints_without_errors(tmp_path):
    import shutil

    project = tmp_path / "billing"
    shutil.copytree(Path(__file__).parents[2] / "examples" / "billing", project)
    lint = cli_process(project, "lint")
    assert lint.exit_code == 0, lint.output
    # Its undo of V3 drops tables that the reporting view reads: SQLite allows it, the view breaks.
    assert lint.stdout.count("warning[DF406 drop-breaks-view]") == 2
    assert lint.stdout.strip().endswith("lint passed: 14 files, 0 errors, 2 warnings")
