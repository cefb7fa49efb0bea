"""lint against history: what changed since a git ref, and what an environment already applied."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dbfleet.errors import ConfigError
from tests.lint_support import codes, lint_project, only
from tests.support import cli, cli_process, query, write_project

T1 = "CREATE TABLE a (id bigint PRIMARY KEY, x text);\n"
T2 = "CREATE TABLE b (id bigint PRIMARY KEY, y text);\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "p"
    lint_project(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    return root


def test_changed_since_lints_only_new_and_edited_migrations(tmp_path):
    root = repo(tmp_path, {"V1__a.sql": T1, "V2__b.sql": T2})
    git(root, "checkout", "-q", "-b", "feature")
    (root / "migrations" / "V3__c.sql").write_text("CREATE TABLE c (x text);\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "c")
    (root / "migrations" / "V4__d.sql").write_text("CREATE TABLE d (x text);\n")  # untracked
    result = lint_project(root, {}, changed_since="main")
    assert result.files == ("migrations/V3__c.sql", "migrations/V4__d.sql")
    assert codes(result) == ["DF601", "DF601"]


def test_tables_created_by_earlier_changes_on_the_branch_are_new(tmp_path):
    root = repo(tmp_path, {"V1__a.sql": T1})
    (root / "migrations" / "V2__b.sql").write_text(T2)
    (root / "migrations" / "V3__c.sql").write_text(
        "CREATE INDEX ON b (y);\nCREATE INDEX ON a (x);\n"
    )
    result = lint_project(root, {}, changed_since="HEAD")
    finding = only(result, "DF201")
    assert finding.message == "CREATE INDEX without CONCURRENTLY locks writes on a"


def test_changed_since_finds_an_edited_migration_and_a_version_below_the_latest(tmp_path):
    root = repo(tmp_path, {"V1__a.sql": T1, "V5__b.sql": T2})
    (root / "migrations" / "V1__a.sql").write_text(T1 + "-- edited\n")
    (root / "migrations" / "V3__late.sql").write_text("SELECT 1;\n")
    result = lint_project(root, {}, changed_since="HEAD")
    assert only(result, "DF703").path == "migrations/V1__a.sql"
    assert only(result, "DF702").message == "new version 3 is lower than the latest merged one (5)"


def test_two_migrations_with_the_same_version_are_a_finding(tmp_path):
    result = lint_project(tmp_path, {"V1__a.sql": T1, "V1__b.sql": T2})
    assert only(result, "DF704").path == "migrations/V1__b.sql"


def test_a_bad_ref_is_one_clear_error(tmp_path):
    root = repo(tmp_path, {"V1__a.sql": T1})
    with pytest.raises(ConfigError, match="--changed-since nope: 'nope' is not a commit here"):
        lint_project(root, {}, changed_since="nope")
    result = cli_process(root, "lint", "--changed-since", "nope")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("error: --changed-since nope")


def test_env_knows_applied_migrations_their_checksums_and_table_sizes(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", sqlite_url, {"V1__a.sql": T1, "V2__b.sql": T2})
    assert cli(project, "migrate").exit_code == 0
    cli(project, "migrate")
    (project / "migrations" / "V1__a.sql").write_text(T1 + "INSERT INTO a VALUES (1, 'x');\n")
    (project / "migrations" / "V3__c.sql").write_text("DROP TABLE b;\nDELETE FROM a;\n")
    result = cli(project, "lint", "--env", "dev", "--format", "json")
    import json

    findings = {(f["file"], f["code"]): f for f in json.loads(result.stdout)["findings"]}
    assert findings[("migrations/V1__a.sql", "DF703")]["message"].startswith(
        "edited after it was applied"
    )
    assert findings[("migrations/V3__c.sql", "DF101")]["message"] == (
        "DROP TABLE b deletes the table and its rows (0 rows)"
    )
    assert result.exit_code == 3


def test_env_version_lower_than_applied(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", sqlite_url, {"V1__a.sql": T1, "V5__b.sql": T2})
    assert cli(project, "migrate").exit_code == 0
    (project / "migrations" / "V3__c.sql").write_text("SELECT 1;\n")
    result = cli(project, "lint", "--env", "dev")
    assert (
        "DF702 version-lower-than-latest] version 3 is not applied but lower than the latest applied one (5)"
        in result.stdout
    )


@pytest.mark.mysql
def test_mariadb_env_sizes_come_from_information_schema(tmp_path, mysql_url):
    project = write_project(
        tmp_path / "p",
        mysql_url,
        {"V1__a.sql": "CREATE TABLE a (id BIGINT PRIMARY KEY, x TEXT);\n"},
    )
    assert cli(project, "migrate").exit_code == 0
    (project / "migrations" / "V2__b.sql").write_text(
        "SET lock_wait_timeout = 5;\nALTER TABLE a DROP COLUMN x;\n"
    )
    result = cli(project, "lint", "--env", "dev", "--json")
    import json

    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["code"] == "DF102"
    assert finding["message"].startswith("DROP COLUMN x deletes the column's data in a (0 rows, ")


def test_changed_since_outside_a_repository_is_one_clear_error(tmp_path):
    root = tmp_path / "p"
    lint_project(root, {"V1__a.sql": T1})
    with pytest.raises(ConfigError, match="is not in a git repository"):
        lint_project(root, {}, changed_since="main")


def test_postgres_env_sizes_come_from_the_catalog_estimates(tmp_path, pg_url):
    project = write_project(
        tmp_path / "p",
        pg_url,
        {"V1__a.sql": "CREATE TABLE a (id BIGINT PRIMARY KEY, x TEXT);\n"},
    )
    assert cli(project, "migrate").exit_code == 0
    query(pg_url, "INSERT INTO a SELECT g, 'x' FROM generate_series(1, 500) g")
    query(pg_url, "ANALYZE a")
    (project / "migrations" / "V2__b.sql").write_text(
        "SET lock_timeout = '5s';\nALTER TABLE a DROP COLUMN x;\n"
    )
    result = cli(project, "lint", "--env", "dev", "--json")
    import json

    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["code"] == "DF102"
    assert finding["message"].startswith("DROP COLUMN x deletes the column's data in a (500 rows, ")
