"""Specification of [lint] settings and inline suppressions."""

from __future__ import annotations

import pytest

from dbfleet.errors import ConfigError
from dbfleet.lint.findings import Severity
from tests.lint_support import codes, lint_project, only

TABLE = "CREATE TABLE invoices (id bigint PRIMARY KEY, note text);\n"


def test_suppression_with_a_reason_silences_that_rule_on_the_next_statement(tmp_path):
    files = {
        "V1__a.sql": TABLE,
        "V2__b.sql": (
            "SET lock_timeout = '1s';\n"
            "-- dbfleet:ignore DF102 the app stopped reading note in release 41\n"
            "ALTER TABLE invoices DROP COLUMN note;\n"
            "ALTER TABLE invoices DROP COLUMN id;\n"
        ),
    }
    result = lint_project(tmp_path, files)
    assert codes(result) == ["DF102"]  # only the second drop, which has no suppression
    suppressed = [f for f in result.findings if f.suppressed_by]
    assert [(f.line, f.suppressed_by) for f in suppressed] == [
        (3, "the app stopped reading note in release 41")
    ]


def test_a_suppression_by_rule_name_works_too(tmp_path):
    files = {
        "V1__a.sql": TABLE,
        "V2__b.sql": "-- dbfleet:ignore drop-table, missing-lock-timeout legacy\nDROP TABLE invoices;\n",
    }
    assert codes(lint_project(tmp_path, files)) == []


def test_a_suppression_without_reason_is_itself_an_error(tmp_path):
    files = {
        "V1__a.sql": TABLE,
        "V2__b.sql": "SET lock_timeout = '1s';\n-- dbfleet:ignore DF101\nDROP TABLE invoices;\n",
    }
    result = lint_project(tmp_path, files)
    finding = only(result, "DF003")
    assert finding.line == 2 and finding.severity is Severity.ERROR and result.failed


def test_a_suppression_that_suppresses_nothing_is_reported(tmp_path):
    files = {
        "V1__a.sql": TABLE
        + "-- dbfleet:ignore DF201 big table\nSELECT 1;\n-- dbfleet:ignore DF999 why\nSELECT 2;\n"
    }
    result = lint_project(tmp_path, files)
    assert [f.message for f in result.active] == [
        "dbfleet:ignore DF201 suppresses nothing: create-index-without-concurrently does not fire on the next statement",
        "dbfleet:ignore DF999: no such rule",
    ]


def test_rules_can_be_disabled_enabled_and_given_another_severity(tmp_path):
    extra = (
        '[lint]\ndisable = ["DF601"]\nenable = ["missing-undo"]\nseverity = { DF605 = "error" }\n'
    )
    files = {"V1__a.sql": "CREATE TABLE logs (line varchar(10));\n"}
    result = lint_project(tmp_path, files, extra=extra)
    assert sorted(codes(result)) == ["DF605", "DF701"]
    assert only(result, "DF605").severity is Severity.ERROR


def test_per_path_overrides(tmp_path):
    extra = '[lint]\n[[lint.overrides]]\npaths = ["migrations/V1__*"]\ndisable = ["DF601"]\n'
    files = {"V1__a.sql": "CREATE TABLE a (x text);\n", "V2__b.sql": "CREATE TABLE b (x text);\n"}
    result = lint_project(tmp_path, files, extra=extra)
    assert [f.path for f in result.active] == ["migrations/V2__b.sql"]


def test_naming_patterns(tmp_path):
    extra = '[lint.naming]\nindex = "^ix_"\n'
    files = {"V1__a.sql": TABLE + "CREATE INDEX invoices_note ON invoices (note);\n"}
    assert only(lint_project(tmp_path, files, extra=extra), "DF608").message == (
        "index name invoices_note does not match ^ix_"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[lint]\ndisable = ["DF9999"]', "'DF9999' is not a lint rule"),
        ('[lint]\nseverity = { DF101 = "fatal" }', "'fatal' is not a severity"),
        ("[lint]\nsqlfluf = true", "unknown key 'lint.sqlfluf'"),
        ('[lint.naming]\ntable = "("', "invalid pattern"),
    ],
)
def test_bad_settings_are_one_clear_error(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        lint_project(tmp_path, {"V1__a.sql": TABLE}, extra=extra)


def test_sqlfluff_style_findings_join_the_report_with_the_projects_own_settings(tmp_path):
    (tmp_path / ".sqlfluff").write_text("[sqlfluff]\nmax_line_length = 40\n")
    files = {"V1__a.sql": "CREATE TABLE a (id bigint PRIMARY KEY, note text, other text);\n"}
    result = lint_project(tmp_path, files, extra="[lint]\nsqlfluff = true\n")
    style = [f for f in result.active if f.code == "DF801"]
    assert any(f.message.startswith("LT05: Line is too long") and f.line == 1 for f in style)
    assert not result.failed  # style findings are warnings


def test_explicit_paths_lint_only_those_files_and_names_still_count(tmp_path):
    files = {"V1__a.sql": TABLE, "V2__b.sql": "DROP TABLE invoices;\n"}
    lint_project(tmp_path, files)
    elsewhere = tmp_path / ".hidden-parent" / "review"
    elsewhere.mkdir(parents=True)
    (elsewhere / "R__views.sql").write_text("CREATE VIEW v AS SELECT 1;\n")
    from dbfleet.config import load_project
    from dbfleet.lint.run import Options, lint

    project = load_project(tmp_path / "dbfleet.toml")
    result = lint(project, Options(paths=(elsewhere, tmp_path / "migrations" / "V2__b.sql")))
    assert result.files == ("migrations/V2__b.sql", ".hidden-parent/review/R__views.sql")
    assert sorted(codes(result)) == ["DF101", "DF501", "DF504"]
