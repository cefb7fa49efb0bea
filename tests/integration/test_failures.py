"""Failures and bad input: one clear line, exit 1, no traceback, nothing half-applied or lost."""

from __future__ import annotations

import json

import pytest

from tests.support import cli, history, query, tables, write_project

BROKEN_FIFTH = {
    "V1__ok.sql": "CREATE TABLE kept (id INTEGER);\n",
    "V2__broken.sql": (
        "CREATE TABLE t1 (id INTEGER);\n"
        "CREATE TABLE t2 (id INTEGER);\n"
        "INSERT INTO t1 (id) VALUES (1);\n"
        "-- the next one is fine too\n"
        "CREATE TABLE t3 (id INTEGER);\n"
        "\n"
        "CREATE TABLE t4 (id INTEGER,\n"
        "    oops INTEGER NOT NULL DEFAULT nonsense(((\n"
        ");\n"
    ),
}


def assert_one_clear_line(result, *fragments):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, result.output
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize("fixture", ["sqlite_url", "pg_url"])
def test_syntax_error_in_fifth_statement_names_file_and_line_and_rolls_back(
    tmp_path, request, fixture
):
    url = request.getfixturevalue(fixture)
    project = write_project(tmp_path, url, BROKEN_FIFTH)
    result = cli(project, "migrate")
    assert_one_clear_line(result, "V2__broken.sql:", "statement 5 failed", "rolled back")
    line = int(result.stderr.split("V2__broken.sql:")[1].split(":")[0])
    assert line in (7, 9)  # the statement starts on line 7; PostgreSQL points at line 9
    assert tables(url) == {"kept", "dbfleet_schema_history"}
    assert history(url) == [("1", "SQL", True)]
    # Fixing the file is enough: nothing was recorded, so migrate simply runs it again.
    fixed = BROKEN_FIFTH["V2__broken.sql"].replace("DEFAULT nonsense(((\n", "DEFAULT 0\n")
    (project / "migrations" / "V2__broken.sql").write_text(fixed)
    assert cli(project, "migrate").exit_code == 0
    assert {"t1", "t2", "t3", "t4"} <= tables(url)


def test_mariadb_failure_is_recorded_and_blocks_until_repair(tmp_path, mysql_url):
    project = write_project(tmp_path, mysql_url, BROKEN_FIFTH)
    result = cli(project, "migrate")
    assert_one_clear_line(
        result, "V2__broken.sql:7", "statement 5 failed", "statements 1-4", "dbfleet repair"
    )
    assert {"t1", "t2", "t3"} <= tables(mysql_url)  # DDL committed implicitly
    assert history(mysql_url) == [("1", "SQL", True), ("2", "SQL", False)]
    blocked = cli(project, "migrate")
    assert blocked.exit_code == 1 and "V2__broken.sql failed on" in blocked.output
    assert json.loads(cli(project, "status", "--json").stdout)["migrations"][1]["state"] == "failed"
    # The operator cleans up by hand and fixes the file, then repair and migrate.
    for table in ("t1", "t2", "t3"):
        query(mysql_url, f"DROP TABLE {table}")
    fixed = BROKEN_FIFTH["V2__broken.sql"].replace("DEFAULT nonsense(((\n", "DEFAULT 0\n")
    (project / "migrations" / "V2__broken.sql").write_text(fixed)
    assert "removed the failed entry of V2__broken.sql" in cli(project, "repair").output
    assert cli(project, "migrate").exit_code == 0
    assert history(mysql_url) == [("1", "SQL", True), ("2", "SQL", True)]


def test_first_statement_failing_on_mariadb_records_nothing(tmp_path, mysql_url):
    project = write_project(tmp_path, mysql_url, {"V1__bad.sql": "CREATE TABLEX nope (id INT);\n"})
    result = cli(project, "migrate")
    assert_one_clear_line(result, "V1__bad.sql:1", "nothing of it was applied")
    assert history(mysql_url) == []


def test_non_utf8_migration_is_rejected_with_file_and_line(tmp_path, db_url):
    project = write_project(tmp_path, db_url, {"V1__a.sql": "CREATE TABLE a (id INTEGER);\n"})
    (project / "migrations" / "V2__latin1.sql").write_bytes(b"-- caf\xe9\nSELECT 1;\n")
    result = cli(project, "migrate")
    assert_one_clear_line(result, "V2__latin1.sql:1", "not UTF-8", "save the file as UTF-8")
    assert tables(db_url) == set()


def test_empty_migration_is_rejected(tmp_path, sqlite_url):
    project = write_project(tmp_path, sqlite_url, {"V1__empty.sql": "\n  \n"})
    assert_one_clear_line(cli(project, "migrate"), "V1__empty.sql", "empty")


def test_misnamed_and_duplicate_files_are_all_named(tmp_path, sqlite_url):
    project = write_project(
        tmp_path,
        sqlite_url,
        {
            "V1__a.sql": "SELECT 1;",
            "V1.0__b.sql": "SELECT 1;",
            "V2_single.sql": "SELECT 1;",
            "U7__orphan.sql": "SELECT 1;",
        },
    )
    result = cli(project, "status")
    assert_one_clear_line(result, "V1__a.sql and V1.0__b.sql", "V2_single.sql", "U7__orphan.sql")


def test_bad_toml_names_the_line(tmp_path, sqlite_url):
    project = write_project(tmp_path, sqlite_url)
    (project / "dbfleet.toml").write_text("[project\nname = 'x'\n")
    assert_one_clear_line(cli(project, "status"), "dbfleet.toml: invalid TOML", "line 1")


def test_unknown_environment_lists_the_defined_ones(tmp_path, sqlite_url):
    project = write_project(tmp_path, sqlite_url)
    assert_one_clear_line(
        cli(project, "status", "--env", "prod"), "unknown environment 'prod'", "dev"
    )


def test_unknown_config_key_suggests_the_right_one(tmp_path, sqlite_url):
    project = write_project(tmp_path, sqlite_url, extra='[migrations]\nlocation = ["x"]\n')
    assert_one_clear_line(
        cli(project, "status"),
        "unknown key 'migrations.location'",
        "did you mean 'migrations.locations'",
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql//nohost",
        "oracle://scott@db/x",
        "mysql://root@db:port/x",
        "postgresql://u@127.0.0.1:5432/",
    ],
)
def test_malformed_url_is_one_clear_line(tmp_path, url):
    project = write_project(tmp_path, url)
    assert_one_clear_line(cli(project, "status"), "environments.dev.url")


def test_unreachable_host_says_what_to_check_and_hides_the_password(tmp_path):
    project = write_project(tmp_path, "postgresql://app:s3cr3t-pw@127.0.0.1:1/app")
    result = cli(project, "migrate")
    assert_one_clear_line(result, "cannot connect", "server is running")
    assert "s3cr3t-pw" not in result.output


def test_wrong_password_is_reported_without_the_password(tmp_path, mysql_url):
    # MariaDB checks passwords here; the local PostgreSQL trusts every connection.
    from dbfleet.dburl import parse_url

    query(mysql_url, "DROP USER IF EXISTS 'dbfleet_pw'@'%'")
    query(mysql_url, "CREATE USER 'dbfleet_pw'@'%' IDENTIFIED BY 'right-one'")
    try:
        parsed = parse_url(mysql_url)
        url = f"mysql://dbfleet_pw:wrong-one@{parsed.host}:{parsed.port or 3306}/{parsed.database}"
        result = cli(write_project(tmp_path, url), "status")
        assert_one_clear_line(result, "cannot connect", "check the user and password")
        assert "wrong-one" not in result.output and "right-one" not in result.output
    finally:
        query(mysql_url, "DROP USER IF EXISTS 'dbfleet_pw'@'%'")


def test_missing_database_says_to_create_it(tmp_path, postgres_server):
    base = postgres_server.rsplit("/", 1)[0]
    project = write_project(tmp_path, f"{base}/no_such_db_here")
    assert_one_clear_line(cli(project, "status"), "no_such_db_here", "create the database")


def test_missing_mariadb_database_says_to_create_it(tmp_path, mysql_server):
    base = mysql_server.rsplit("/", 1)[0]
    project = write_project(tmp_path, f"{base}/no_such_db_here")
    assert_one_clear_line(cli(project, "status"), "no_such_db_here", "create the database")


def test_password_from_environment_variable_never_appears_in_output(tmp_path, pg_url):
    from dataclasses import replace

    from dbfleet.dburl import parse_url

    secret_url = replace(parse_url(pg_url), password="hunter2-secret").full
    project = write_project(tmp_path, "${env:APP_DB_URL}", {"V1__bad.sql": "SELEC 1;"})
    result = cli(project, "migrate", env={"APP_DB_URL": secret_url})
    assert result.exit_code == 1
    shown = cli(project, "status", "--json", env={"APP_DB_URL": secret_url})
    assert "hunter2-secret" not in result.output + shown.output


def test_debug_shows_the_traceback(tmp_path, sqlite_url):
    project = write_project(tmp_path, sqlite_url)
    with pytest.raises(Exception, match="unknown environment"):
        cli(project, "--debug", "status", "--env", "nope")
