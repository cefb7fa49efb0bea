"""What the review broke once: locks, session changes, kills, callbacks, dry-run fidelity."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support import cli, history, query, tables, write_project


def _spawn(project, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBFLEET_")}
    return subprocess.Popen(
        [sys.executable, "-m", "dbfleet", "-C", str(project), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_spellings_of_one_server_share_one_lock(tmp_path, pg_url):
    if "@127.0.0.1:" not in pg_url:
        pytest.skip("needs the TCP server on 127.0.0.1 (a second spelling: localhost)")
    other = pg_url.replace("@127.0.0.1:", "@localhost:")
    files = {
        "V1__counter.sql": "CREATE TABLE counter (n INTEGER);\n",
        "V2__slow.sql": "SELECT pg_sleep(1.5);\nINSERT INTO counter VALUES (2);\n",
    }
    (tmp_path / "a").mkdir()
    first = write_project(tmp_path / "a", pg_url, files)
    second = write_project(tmp_path / "b", other, files)
    one = _spawn(first, "migrate")
    time.sleep(0.5)
    two = _spawn(second, "migrate")
    assert one.wait(60) == 0 and two.wait(60) == 0, (one.stderr.read(), two.stderr.read())
    assert query(pg_url, "SELECT n FROM counter") == [(2,)]
    assert [r[0] for r in history(pg_url)] == ["1", "2"]


def test_lock_wait_gives_up_with_a_clear_message(tmp_path, pg_url):
    files = {"V1__slow.sql": "SELECT pg_sleep(3);\n"}
    project = write_project(tmp_path, pg_url, files, extra='[migrations]\nlock_wait = "1s"\n')
    holder = _spawn(project, "migrate")
    deadline = time.time() + 30
    held = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    while not query(pg_url, held)[0][0]:
        assert time.time() < deadline, "the first run never took the lock"
        time.sleep(0.05)
    waiting = cli(project, "migrate")
    holder.wait(60)
    assert waiting.exit_code == 1
    assert "another dbfleet run holds the lock" in waiting.stderr and "lock_wait" in waiting.stderr


def test_migration_that_changes_search_path_still_records_its_history(tmp_path, pg_url):
    files = {
        "V1__app_schema.sql": "CREATE SCHEMA app;\nSET search_path TO app;\nCREATE TABLE t (id INTEGER);\n",
        "V2__more.sql": "CREATE TABLE app.u (id INTEGER);\n",
    }
    project = write_project(tmp_path, pg_url, files)
    result = cli(project, "migrate")
    assert result.exit_code == 0, result.output
    assert query(pg_url, "SELECT count(*) FROM public.dbfleet_schema_history") == [(2,)]


def test_migration_that_switches_database_on_mariadb_still_records_its_history(tmp_path, mysql_url):
    other = mysql_url.rsplit("/", 1)[1] + "_other"
    query(mysql_url, f"CREATE DATABASE `{other}`")
    try:
        files = {
            "V1__switch.sql": f"CREATE TABLE a (id INT);\nUSE `{other}`;\nCREATE TABLE b (id INT);\n"
        }
        project = write_project(tmp_path, mysql_url, files)
        assert cli(project, "migrate").exit_code == 0
        assert history(mysql_url) == [("1", "SQL", True)]
    finally:
        query(mysql_url, f"DROP DATABASE `{other}`")


def test_killed_during_a_non_transactional_migration_leaves_a_failed_entry(tmp_path, pg_url):
    files = {
        "V1__slow.sql": "-- dbfleet:no-transaction\nCREATE TABLE n1 (id INTEGER);\n"
        "SELECT pg_sleep(5);\nCREATE TABLE n2 (id INTEGER);\n",
    }
    project = write_project(tmp_path, pg_url, files)
    proc = _spawn(project, "migrate")
    deadline = time.time() + 20
    while "n1" not in tables(pg_url) and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert history(pg_url) == [("1", "SQL", False)]
    blocked = cli(project, "migrate")
    assert blocked.exit_code == 1 and "V1__slow.sql failed on" in blocked.stderr
    assert "dbfleet repair" in blocked.stderr


def test_killed_during_a_transactional_migration_leaves_nothing_behind(tmp_path, pg_url):
    files = {"V1__slow.sql": "CREATE TABLE n1 (id INTEGER);\nSELECT pg_sleep(5);\n"}
    project = write_project(tmp_path, pg_url, files)
    proc = _spawn(project, "migrate")
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    time.sleep(0.3)  # the server notices the dropped connection and rolls back
    assert "n1" not in tables(pg_url)
    assert cli(project, "migrate").exit_code == 0  # the lock died with the connection
    assert history(pg_url) == [("1", "SQL", True)]


def test_each_callbacks_do_not_count_as_migration_statements(tmp_path, mysql_url):
    files = {
        "beforeEachMigrate.sql": "SET @x = 1;\n",
        "V1__bad.sql": "CREATE TABLEX nope (id INT);\n",
    }
    project = write_project(tmp_path, mysql_url, files)
    result = cli(project, "migrate")
    assert result.exit_code == 1
    assert "V1__bad.sql:1: statement 1 failed" in result.stderr
    assert history(mysql_url) == []  # nothing of V1 ran: no failed entry, no repair needed


def test_failing_after_migrate_callback_says_the_migrations_were_committed(tmp_path, db_url):
    files = {
        "V1__a.sql": "CREATE TABLE a (id INTEGER);\n",
        "afterMigrate.sql": "SELECT nonsense_fn();\n",
    }
    project = write_project(tmp_path, db_url, files)
    result = cli(project, "migrate")
    assert result.exit_code == 1
    assert "afterMigrate callback" in result.stderr and "applied and committed" in result.stderr
    assert history(db_url) == [("1", "SQL", True)]


def test_after_migrate_error_callback_runs_when_a_migration_fails(tmp_path, sqlite_url):
    files = {
        "V1__log.sql": "CREATE TABLE log (what VARCHAR(40));\n",
        "V2__bad.sql": "SELEC 1;\n",
        "afterMigrateError.sql": "CREATE TABLE migrate_failed (id INTEGER);\n",
    }
    project = write_project(tmp_path, sqlite_url, files)
    assert cli(project, "migrate").exit_code == 1
    assert "migrate_failed" in tables(sqlite_url)


def test_undo_failing_midway_on_mariadb_is_recorded_and_explained(tmp_path, mysql_url):
    files = {
        "V1__bc.sql": "CREATE TABLE b (id INT);\nCREATE TABLE c (id INT);\n",
        "U1__bc.sql": "DROP TABLE c;\nDROP TABLE nope;\nDROP TABLE b;\n",
    }
    project = write_project(tmp_path, mysql_url, files)
    assert cli(project, "migrate").exit_code == 0
    result = cli(project, "undo")
    assert result.exit_code == 1 and "statements 1-1 of U1__bc.sql were committed" in result.stderr
    validate = cli(project, "validate")
    assert "undo U1__bc.sql failed" in validate.stderr
    assert "removed the failed entry of U1__bc.sql" in cli(project, "repair").stderr


def test_dry_run_script_builds_the_same_database_as_migrate(tmp_path, db_url):
    """Feeding the dry-run output to the engine gives the schema and history a run gives."""
    from dbfleet.dburl import parse_url
    from dbfleet.engines import connect, dialect_for

    engine = parse_url(db_url).engine
    files = {
        "V1__t.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20));\n",
        "V2__data.sql": "INSERT INTO t VALUES (1, 'it''s; tricky');\n",
        "R__v.sql": "DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT name FROM t;\n",
    }
    if engine == "postgresql":
        files["V3__idx.sql"] = "CREATE INDEX CONCURRENTLY t_name ON t (name);\n"
    if engine == "mysql":
        files["V3__proc.sql"] = (
            "CREATE PROCEDURE touch_t() BEGIN\n  UPDATE t SET name = name;\n  SELECT 1;\nEND;\n"
        )
    project = write_project(tmp_path, db_url, files)
    script = cli(project, "migrate", "--dry-run").stdout
    with connect(parse_url(db_url)) as conn:
        for statement in dialect_for(engine).split(script):
            conn.execute(statement.text)
    rows = query(
        db_url, "SELECT version, success FROM dbfleet_schema_history ORDER BY installed_rank"
    )
    assert [r[0] for r in rows] == (["1", "2", "3", None] if len(files) == 4 else ["1", "2", None])
    assert all(bool(r[1]) for r in rows)
    assert query(db_url, "SELECT name FROM v") == [("it's; tricky",)]
    assert cli(project, "validate").exit_code == 0  # the history it wrote is what migrate writes
    assert "up to date" in cli(project, "migrate").stderr


def test_history_rows_record_checksum_description_user_and_time(tmp_path, db_url):
    text = "-- first\r\nCREATE TABLE t (id INTEGER);\r\n"
    project = write_project(tmp_path, db_url)
    (project / "migrations" / "V1_1__first_table.sql").write_bytes(text.encode())
    assert cli(project, "migrate").exit_code == 0
    [(version, description, kind, script, checksum, by, ms, ok)] = query(
        db_url,
        "SELECT version, description, type, script, checksum, installed_by, "
        "execution_time, success FROM dbfleet_schema_history",
    )
    assert (version, description, kind, script) == (
        "1.1",
        "first table",
        "SQL",
        "V1_1__first_table.sql",
    )
    assert checksum == hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()
    assert by and ms >= 0 and bool(ok)


def test_versions_sort_numerically_end_to_end(tmp_path, sqlite_url):
    files = {
        f"V1.{n}__step.sql".replace("step", f"s{n}"): f"CREATE TABLE s{n} (id INTEGER);\n"
        for n in (9, 10, 2)
    }
    project = write_project(tmp_path, sqlite_url, files)
    data = json.loads(cli(project, "migrate", "--json").stdout)
    assert [a["script"] for a in data["applied"]] == [
        "V1.2__s2.sql",
        "V1.9__s9.sql",
        "V1.10__s10.sql",
    ]


def test_history_table_of_another_tool_is_named_not_crashed_on(tmp_path, sqlite_url):
    query(sqlite_url, "CREATE TABLE dbfleet_schema_history (id INTEGER, note TEXT)")
    project = write_project(tmp_path, sqlite_url, {"V1__t.sql": "CREATE TABLE t (id INTEGER);\n"})
    result = cli(project, "status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is not a dbfleet history table" in result.stderr and "history_table" in result.stderr


def test_history_schema_on_mariadb_is_a_database(tmp_path, mysql_url):
    ops = mysql_url.rsplit("/", 1)[1] + "_ops"
    try:
        project = write_project(
            tmp_path,
            mysql_url,
            {"V1__t.sql": "CREATE TABLE t (id INT);\n"},
            extra=f'[migrations]\nhistory_schema = "{ops}"\n',
        )
        assert cli(project, "migrate").exit_code == 0
        assert query(mysql_url, f"SELECT count(*) FROM `{ops}`.dbfleet_schema_history") == [(1,)]
    finally:
        query(mysql_url, f"DROP DATABASE IF EXISTS `{ops}`")


def test_validate_on_migrate_off_still_refuses_to_run_past_a_failure(tmp_path, mysql_url):
    files = {"V1__a.sql": "CREATE TABLE a (id INT);\nCREATE TABLEX b (id INT);\n"}
    project = write_project(
        tmp_path, mysql_url, files, extra="[migrations]\nvalidate_on_migrate = false\n"
    )
    assert cli(project, "migrate").exit_code == 1
    again = cli(project, "migrate")
    assert again.exit_code == 1 and "failed on" in again.stderr


def test_relative_sqlite_url_is_the_same_database_from_any_folder(tmp_path, monkeypatch):
    project = write_project(
        tmp_path / "proj", "sqlite:///data/dev.db", {"V1__t.sql": "CREATE TABLE t (id INTEGER);\n"}
    )
    monkeypatch.chdir(tmp_path)
    assert cli(project, "migrate").exit_code == 0
    assert (project / "data" / "dev.db").exists()
    assert "up to date" in cli(project, "migrate").stderr


def test_json_errors_are_json_on_stdout(tmp_path, sqlite_url):
    project = write_project(tmp_path, sqlite_url)
    result = cli(project, "status", "--env", "nope", "--json")
    assert result.exit_code == 1
    assert "unknown environment" in json.loads(result.stdout)["error"]
