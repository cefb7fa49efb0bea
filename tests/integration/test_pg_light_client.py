"""The migration commands' light PostgreSQL client (libpq over ctypes) behaves as psycopg does."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dbfleet.dburl import parse_url
from dbfleet.engines import connect
from dbfleet.engines.base import StatementError
from dbfleet.engines.postgres import libpq
from dbfleet.engines.postgres.driver import LibpqConnection, PostgresConnection
from tests.support import cli, cli_process, history, process_env, query, tables, write_project

pytestmark = pytest.mark.postgres

DRIVERS = ["libpq", "psycopg"]


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test in turn with the light client and with psycopg on the migration path."""
    monkeypatch.setenv("DBFLEET_PG_DRIVER", request.param)
    return str(request.param)


def test_the_migration_path_uses_libpq_by_default_and_psycopg_when_asked(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert libpq.available(), "psycopg-binary bundles a libpq: it must be found"
    url = parse_url(pg_url)
    monkeypatch.delenv("DBFLEET_PG_DRIVER", raising=False)
    with connect(url, light=True) as conn:
        assert isinstance(conn, LibpqConnection)
    with connect(url) as conn:  # everything else keeps psycopg
        assert isinstance(conn, PostgresConnection)
    monkeypatch.setenv("DBFLEET_PG_DRIVER", "psycopg")
    with connect(url, light=True) as conn:
        assert isinstance(conn, PostgresConnection)


def test_an_unknown_driver_name_is_one_clear_line(tmp_path: Path, pg_url: str) -> None:
    project = write_project(tmp_path, pg_url)
    result = cli(project, "status", env={"DBFLEET_PG_DRIVER": "odbc"})
    assert result.exit_code == 1
    assert "DBFLEET_PG_DRIVER='odbc'" in result.stderr and "libpq or psycopg" in result.stderr


# Every type the migration path reads, with what psycopg makes of it.
TYPED = (
    "SELECT true, false, 12::int2, 123456::int4, 9000000000::int8, 'pg_class'::regclass::oid, "
    "1.5::float4, 2.25::float8, 'NaN'::float8, '-Infinity'::float8, 12.340::numeric, "
    "'NaN'::numeric, 'café'::text, 'v'::varchar(5), 'c'::char(3), 'n'::name, "
    "'pg_class'::regclass, '2026-11-22 08:07:26.5'::timestamp, "
    "'2026-11-22 08:07:26.123456+02'::timestamptz, '2026-11-22'::date, NULL::int4, ''::text"
)


def test_each_type_reads_as_psycopg_reads_it(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBFLEET_PG_DRIVER", raising=False)
    url = parse_url(pg_url)
    with connect(url, light=True) as light, connect(url) as full:
        assert isinstance(light, LibpqConnection)
        mine, theirs = light.query(TYPED)[0], full.query(TYPED)[0]
    assert mine[:8] == (True, False, 12, 123456, 9000000000, theirs[5], 1.5, 2.25)
    assert all(type(a) is type(b) for a, b in zip(mine[:8], theirs[:8], strict=True))
    assert mine[8] != mine[8] and mine[9] == float("-inf")  # NaN, -Infinity
    assert mine[10] == Decimal("12.340") == theirs[10] and str(mine[10]) == "12.340"
    assert mine[11].is_nan()
    assert mine[12:17] == ("café", "v", "c  ", "n", "pg_class") == theirs[12:17]
    assert mine[17] == theirs[17] and mine[17].tzinfo is None  # timestamp
    assert mine[18] == theirs[18] and mine[18].tzinfo is not None  # timestamptz, same instant
    assert mine[19] == theirs[19]  # date
    assert mine[20] is None and mine[21] == ""


def test_a_timestamp_python_cannot_hold_reads_as_the_servers_text(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBFLEET_PG_DRIVER", raising=False)
    with connect(parse_url(pg_url), light=True) as conn:
        # psycopg refuses these ("timestamp too large"); the history never holds them.
        assert conn.query("SELECT 'infinity'::timestamp, '-infinity'::date") == [
            ("infinity", "-infinity")
        ]


def test_records_name_their_columns(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBFLEET_PG_DRIVER", raising=False)
    with connect(parse_url(pg_url), light=True) as conn:
        assert conn.records("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL") == [
            {"a": 1, "b": "x"},
            {"a": 2, "b": None},
        ]


def test_an_error_in_a_batch_names_its_statement_and_position(pg_url: str, driver: str) -> None:
    with connect(parse_url(pg_url), light=True) as conn:
        conn.begin()
        with pytest.raises(StatementError) as caught:
            conn.run_in_transaction(
                ["CREATE TABLE a (i int)", "INSERT INTO a VALUES (1)", "SELECT nosuch FROM a"]
            )
        conn.rollback()
        assert caught.value.index == 2
        assert caught.value.position == len("SELECT ") + 1
        assert caught.value.sqlstate == "42703"
        assert caught.value.message == 'column "nosuch" does not exist'
        assert conn.query("SELECT to_regclass('a')") == [(None,)]  # rolled back


def test_a_statement_error_carries_sqlstate_message_and_detail(pg_url: str, driver: str) -> None:
    with connect(parse_url(pg_url), light=True) as conn:
        conn.execute("CREATE TABLE u (id int PRIMARY KEY)")
        conn.execute("INSERT INTO u VALUES (1)")
        with pytest.raises(StatementError) as caught:
            conn.execute("INSERT INTO u VALUES (1)")
        assert caught.value.sqlstate == "23505"
        assert caught.value.message == (
            'duplicate key value violates unique constraint "u_pkey" (Key (id)=(1) already exists.)'
        )
        assert conn.query("SELECT count(*) FROM u") == [(1,)]  # the session goes on


def test_a_syntax_error_in_the_fifth_statement_names_file_line_and_statement(
    tmp_path: Path, pg_url: str, driver: str
) -> None:
    script = (
        "CREATE TABLE a (id int);\n"
        "INSERT INTO a VALUES (1);\n"
        "INSERT INTO a VALUES (2);\n"
        "-- the next one is fine too\n"
        "CREATE INDEX a_id ON a (id);\n"
        "INSERT INTO a\n"
        "  VALUS (3);\n"
    )
    project = write_project(tmp_path, pg_url, {"V1__a.sql": script})
    result = cli(project, "migrate")
    assert result.exit_code == 1
    assert 'V1__a.sql:7: statement 5 failed: syntax error at or near "VALUS"' in result.stderr
    assert tables(pg_url) == {"dbfleet_schema_history"} and history(pg_url) == []


def test_cancel_from_another_thread_stops_a_migration_batch_which_then_rolls_back(
    pg_url: str, driver: str
) -> None:
    with connect(parse_url(pg_url), light=True) as conn:
        conn.begin()
        timer = threading.Timer(0.5, conn.cancel)  # as a tenant's deadline does
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(StatementError) as caught:
                conn.run_in_transaction(["CREATE TABLE a (id int)", "SELECT pg_sleep(30)"])
        finally:
            timer.cancel()
        conn.rollback()
        assert time.monotonic() - started < 10
        assert caught.value.sqlstate == "57014"  # query_canceled
        assert caught.value.message == "canceling statement due to user request"
        assert conn.query("SELECT to_regclass('a')") == [(None,)]


def _backends(url: str, database: str) -> list[tuple[Any, ...]]:
    return query(
        url,
        "SELECT state, query FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND application_name = 'dbfleet' AND pid <> pg_backend_pid()",
    )


def test_ctrl_c_during_a_long_migration_stops_it_promptly_and_rolls_it_back(
    tmp_path: Path, pg_url: str
) -> None:
    files = {
        "V1__a.sql": "CREATE TABLE a (id int);\n",
        "V2__slow.sql": "CREATE TABLE b (id int);\nSELECT pg_sleep(30);\n",
    }
    project = write_project(tmp_path, pg_url, files)
    database = parse_url(pg_url).database
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbfleet", "-C", str(project), "migrate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=process_env(),  # the default client: libpq
    )
    deadline = time.monotonic() + 30
    while not any("pg_sleep" in q for _, q in _backends(pg_url, database)):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    interrupted = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert time.monotonic() - interrupted < 5
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert tables(pg_url) == {"a", "dbfleet_schema_history"}  # b was rolled back
    assert history(pg_url) == [("1", "SQL", True)]
    assert _backends(pg_url, database) == []  # the session ended; nothing runs on
    assert query(pg_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("port", "check that the server is running and the host and port are right"),
        ("database", "create the database first"),
    ],
)
def test_connect_errors_are_one_clear_line(
    tmp_path: Path, pg_url: str, driver: str, change: str, expected: str
) -> None:
    url = parse_url(pg_url)
    if change == "port":
        url = parse_url(url.full.replace(f":{url.port or 5432}/", ":1/"))
    else:
        url = url.with_database("dbfleet_no_such_database")
    result = cli(write_project(tmp_path, url.full), "migrate")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot connect to"), result.stderr
    assert expected in lines[0]


def test_a_password_never_shows_in_a_connect_error(
    tmp_path: Path, pg_url: str, driver: str
) -> None:
    # The test server trusts 127.0.0.1, so no password is ever checked: a role that may not
    # log in makes the connection fail with the password in the URL.
    role, secret = "dbfleet_nologin_test", "Sup3r-s3cret-pw"
    query(pg_url, f"DROP ROLE IF EXISTS {role}")
    query(pg_url, f"CREATE ROLE {role} NOLOGIN PASSWORD '{secret}'")
    try:
        url = parse_url(pg_url)
        bad = f"postgresql://{role}:{secret}@{url.host}:{url.port or 5432}/{url.database}"
        result = cli(write_project(tmp_path, bad), "migrate")
    finally:
        query(pg_url, f"DROP ROLE IF EXISTS {role}")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f'role "{role}" is not permitted to log in' in lines[0]
    assert secret not in result.output and f"{role}:***@" in lines[0]


_WATCH_IMPORTS = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('psycopg imported' if any(m.split('.')[0] in "
    "('psycopg', 'psycopg_binary') for m in sys.modules) else 'psycopg not imported', "
    "file=sys.stderr))\n"
    "from dbfleet.cli import main\n"
    "main(sys.argv[1:])\n"
)


def test_a_no_op_migrate_never_imports_psycopg(tmp_path: Path, pg_url: str) -> None:
    project = write_project(tmp_path, pg_url, {"V1__a.sql": "CREATE TABLE a (id int);\n"})
    assert cli(project, "migrate").exit_code == 0
    for command in (["migrate"], ["status"], ["validate"]):
        proc = subprocess.run(
            [sys.executable, "-c", _WATCH_IMPORTS, "-C", str(project), *command],
            capture_output=True,
            text=True,
            env=process_env(),
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert "psycopg not imported" in proc.stderr, (command, proc.stderr)


def test_a_killed_session_fails_as_a_statement_error_and_stays_closed(
    pg_url: str, driver: str
) -> None:
    with connect(parse_url(pg_url), light=True) as conn:
        pid = conn.query("SELECT pg_backend_pid()")[0][0]
        query(pg_url, f"SELECT pg_terminate_backend({pid})")
        with pytest.raises(StatementError):
            conn.query("SELECT 1")
        with pytest.raises(StatementError):  # not a crash, and not a hang
            conn.query("SELECT 1")


def test_sql_with_a_nul_byte_is_refused_before_anything_runs(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBFLEET_PG_DRIVER", raising=False)
    with connect(parse_url(pg_url), light=True) as conn:
        with pytest.raises(StatementError, match="NUL character"):
            conn.execute("CREATE TABLE a (id int);\x00DROP TABLE a")
        assert conn.query("SELECT to_regclass('a')") == [(None,)]


def test_without_a_loadable_libpq_the_migration_path_falls_back_to_psycopg(tmp_path, pg_url):
    """A machine without libpq (psycopg without its binary wheel, no libpq5), as
    DBFLEET_LIBPQ naming no library makes it: the migration commands quietly use psycopg, and
    insisting on libpq is one clear error."""
    project = write_project(tmp_path / "p", pg_url, {"V1__a.sql": "CREATE TABLE a (id int);\n"})
    nowhere = {"DBFLEET_LIBPQ": str(tmp_path / "no" / "libpq.so.5")}
    migrated = cli_process(project, "migrate", env=nowhere)
    assert migrated.exit_code == 0, migrated.output
    assert history(pg_url) == [("1", "SQL", True)]
    insisted = cli_process(project, "status", env={**nowhere, "DBFLEET_PG_DRIVER": "libpq"})
    assert insisted.exit_code == 1 and "no libpq could be loaded" in insisted.stderr
    assert "Traceback" not in insisted.stderr
