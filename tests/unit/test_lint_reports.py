"""Specification of lint's report formats: text, JSON, GitHub annotations, JUnit, SARIF."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dbfleet.lint import report
from dbfleet.lint.schema import TableSize
from tests.lint_support import lint_project
from tests.support import cli

# The OASIS SARIF 2.1.0 schema (errata01, os), vendored verbatim: tests run without network.
SCHEMA = Path(__file__).parent.parent / "fixtures" / "lint" / "sarif-schema-2.1.0.json"
FILES = {
    "V1__a.sql": "CREATE TABLE a (id bigint PRIMARY KEY, note text);\n",
    "V2__b.sql": (
        "SET lock_timeout = '1s';\n"
        "-- dbfleet:ignore DF201 tiny table\n"
        "CREATE INDEX ON a (note);\n"
        "\tALTER TABLE a DROP COLUMN note;\n"
    ),
}


@pytest.fixture
def result(tmp_path):
    return lint_project(tmp_path, FILES)


def test_text_shows_place_rule_message_line_caret_and_help(result):
    text = report.render_text(result)
    assert text.splitlines()[:4] == [
        "migrations/V2__b.sql:4:14: error[DF102 drop-column] DROP COLUMN note deletes the column's data in a",
        "  4 | \tALTER TABLE a DROP COLUMN note;",
        "    | \t            ^",
        "  help: Remove every use of the column from the application and deploy that first; drop the column in a later migration.",
    ]
    assert text.endswith("lint failed: 2 files, 1 error, 0 warnings, 1 suppressed\n")


def test_json_lists_every_finding_with_its_suppression(result):
    data = json.loads(report.render_json(result))
    assert data["passed"] is False
    assert [(f["code"], f["line"], f["suppressed"]) for f in data["findings"]] == [
        ("DF201", 3, True),
        ("DF102", 4, False),
    ]
    assert data["findings"][0]["suppression_reason"] == "tiny table"


def test_github_prints_workflow_annotations(result):
    lines = report.render_github(result).splitlines()
    assert lines[0] == (
        "::error file=migrations/V2__b.sql,line=4,col=14,title=DF102 drop-column::"
        "DROP COLUMN note deletes the column's data in a. Remove every use of the column from "
        "the application and deploy that first; drop the column in a later migration."
    )


def test_junit_has_a_suite_per_file_and_a_failure_per_finding(result):
    root = ET.fromstring(report.render_junit_report(result))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "dbfleet lint migrations/V1__a.sql",
        "dbfleet lint migrations/V2__b.sql",
    ]
    assert suites[0].get("failures") == "0" and suites[0].get("tests") == "1"
    (case,) = suites[1].findall("testcase")
    assert case.get("line") == "4" and case.find("failure") is not None


def test_sarif_is_2_1_0_with_every_rule_and_each_finding(result):
    log = json.loads(report.render_sarif_report(result))
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"DF001", "DF102", "DF201", "DF701"}
    by_rule = {r["ruleId"]: r for r in run["results"]}
    region = by_rule["DF102"]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (4, 14)
    assert rules[by_rule["DF102"]["ruleIndex"]]["id"] == "DF102"
    assert by_rule["DF201"]["suppressions"][0]["justification"] == "tiny table"


def test_sarif_validates_against_the_official_schema(result):
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    assert schema["$id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    jsonschema.Draft7Validator(schema).validate(json.loads(report.render_sarif_report(result)))


def test_the_schema_check_would_catch_a_broken_log(result):
    import jsonschema

    log = json.loads(report.render_sarif_report(result))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, json.loads(SCHEMA.read_text()))


def test_explain_and_list_rules_via_the_cli(tmp_path):
    explained = cli(tmp_path, "lint", "--explain", "ban-drop-column")
    assert explained.exit_code == 0 and explained.stdout.startswith("DF102 drop-column")
    listed = cli(tmp_path, "lint", "--list-rules").stdout.splitlines()
    assert len(listed) >= 45 and listed[0].startswith("DF001")
    unknown = cli(tmp_path, "lint", "--explain", "DF999")
    assert unknown.exit_code == 1 and "--explain DF999: no such rule" in unknown.stderr


def test_output_file_and_exit_codes(tmp_path):
    lint_project(tmp_path, {"V1__a.sql": "CREATE TABLE a (id bigint PRIMARY KEY);\n"})
    clean = cli(tmp_path, "lint", "--format", "junit", "--output", "out.xml")
    assert clean.exit_code == 0 and (tmp_path / "out.xml").read_text().startswith("<?xml")
    (tmp_path / "migrations" / "V2__b.sql").write_text("DROP TABLE a;\n")
    assert cli(tmp_path, "lint").exit_code == 3
    assert cli(tmp_path, "lint", "--format", "yaml").exit_code == 1


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (TableSize(12_345_678, 3_300_000_000), "12 M rows, 3.1 GB"),
        (TableSize(1_500), "1.5 k rows"),
        (TableSize(999, 8192), "999 rows, 8.0 kB"),
        (TableSize(-1, 16384), "16 kB"),
    ],
)
def test_table_sizes_read_like_a_person_says_them(size, text):
    assert str(size) == text
