"""`dbfleet test` with built-in tests on every engine: a scratch database, seeds, expectations."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dbfleet.dburl import parse_url
from tests.support import cli, query, write_project

MIGRATIONS = {
    "V1__accounts.sql": (
        "CREATE TABLE accounts (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    name VARCHAR(50) NOT NULL UNIQUE,\n"
        "    balance DECIMAL(10, 2) NOT NULL DEFAULT 0\n"
        ");\n"
    ),
    "V2__notes.sql": "ALTER TABLE accounts ADD COLUMN note VARCHAR(100);\n",
}
SEED = "INSERT INTO accounts (id, name, balance) VALUES (1, 'ann', 100), (2, 'bob', 50.5);\n"
DUPLICATE = {"sqlite": "UNIQUE constraint", "postgresql": "duplicate key", "mysql": "Duplicate"}


def make_project(
    root: Path,
    db_url: str,
    request: pytest.FixtureRequest,
    tests: dict[str, str],
    migrations: dict[str, str] | None = None,
    seed: dict[str, str] | None = None,
    config: str = "",
) -> Path:
    """A project on db_url's engine whose scratch databases go to the same test server."""
    engine = parse_url(db_url).engine
    server = {"postgresql": "postgres_server", "mysql": "mysql_server"}.get(engine)
    extra = f'scratch_url = "{request.getfixturevalue(server)}"\n' if server else ""
    extra += config
    project = write_project(root, db_url, MIGRATIONS if migrations is None else migrations, extra)
    for name, text in {**{f"seed/{k}": v for k, v in (seed or {}).items()}, **tests}.items():
        path = project / "tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return project


def scratch_leftovers(db_url: str) -> list[str]:
    """Scratch databases this process created and did not drop."""
    engine = parse_url(db_url).engine
    pattern = f"dbfleet\\_scratch\\_{os.getpid()}\\_%"
    if engine == "postgresql":
        sql = f"SELECT datname FROM pg_database WHERE datname LIKE '{pattern}'"
    elif engine == "mysql":
        sql = f"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{pattern}'"
    else:
        return []
    return [r[0] for r in query(db_url, sql)]


def test_passing_and_failing_tests_on_every_engine_with_expected_vs_actual(
    tmp_path, db_url, request
):
    engine = parse_url(db_url).engine
    tests = {
        "accounts.sql": (
            "-- test: balances are seeded\n"
            "-- expect: ann | 100\n"
            "-- expect: bob | 50.5\n"
            "SELECT name, balance FROM accounts ORDER BY name;\n"
            "\n"
            "-- test: a new account starts at zero\n"
            "INSERT INTO accounts (id, name) VALUES (3, 'cy');\n"
            "-- expect: 0 | NULL\n"
            "SELECT balance, note FROM accounts WHERE id = 3;\n"
            "\n"
            "-- test: names are unique\n"
            f"-- expect error: {DUPLICATE[engine]}\n"
            "INSERT INTO accounts (id, name) VALUES (4, 'ann');\n"
            "-- expect rows: 2\n"
            "SELECT * FROM accounts;\n"
            "\n"
            "-- test: the total is wrong on purpose\n"
            "-- expect: 999\n"
            "SELECT SUM(balance) FROM accounts;\n"
            "\n"
            "-- test: a statement that fails fails the test\n"
            "SELECT no_such_column FROM accounts;\n"
        )
    }
    project = make_project(tmp_path / "p", db_url, request, tests, seed={"01.sql": SEED})
    junit = tmp_path / "junit.xml"
    result = cli(project, "test", "--junit", str(junit))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "3 passed, 2 failed, 0 error(s), 0 skipped" in result.stdout
    assert "FAIL tests/accounts.sql:17: the total is wrong on purpose" in result.stdout
    assert "tests/accounts.sql:19: expected 999, got 150.5" in result.stdout
    assert "expected: 999\n    actual:   150.5" in result.stdout
    assert "tests/accounts.sql:22: statement failed" in result.stdout
    assert scratch_leftovers(db_url) == []

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "0")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "tests/accounts.sql"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    failure = cases["the total is wrong on purpose"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("tests/accounts.sql:19:")
    assert "expected: 999" in (failure.text or "") and "actual:   150.5" in (failure.text or "")
    assert cases["names are unique"].find("failure") is None
    assert cases["balances are seeded"].get("line") == "1"


def test_each_test_is_rolled_back_so_order_does_not_matter(tmp_path, db_url, request):
    tests = {
        "a.sql": (
            "-- test: deletes everything\n"
            "DELETE FROM accounts;\n"
            "-- expect rows: 0\n"
            "SELECT * FROM accounts;\n"
            "-- test: still sees the seed after the delete\n"
            "-- expect: 2\n"
            "SELECT COUNT(*) FROM accounts;\n"
        ),
        "b.sql": (
            "UPDATE accounts SET balance = balance + 1;  -- setup: before each test of the file\n"
            "-- test: setup ran once for this test\n"
            "-- expect: 101\n"
            "SELECT balance FROM accounts WHERE id = 1;\n"
            "-- test: and once again for this one, not twice\n"
            "-- expect: 101\n"
            "SELECT balance FROM accounts WHERE id = 1;\n"
        ),
    }
    project = make_project(tmp_path / "p", db_url, request, tests, seed={"01.sql": SEED})
    result = cli(project, "test")
    assert result.exit_code == 0, result.output
    assert "4 passed, 0 failed" in result.stdout


def test_seed_files_load_in_name_order_before_the_tests(tmp_path, sqlite_url, request):
    seed = {
        "02_more.sql": "INSERT INTO accounts (id, name) SELECT id + 10, name || '2' FROM accounts;\n",
        "01_first.sql": SEED,
    }
    tests = {
        "t.sql": "-- test: both seeds ran, in order\n-- expect: 4\nSELECT COUNT(*) FROM accounts;\n"
    }
    project = make_project(tmp_path / "p", sqlite_url, request, tests, seed=seed)
    result = cli(project, "test")
    assert result.exit_code == 0, result.output
    assert "loaded 2 seed file(s)" in result.stderr


def test_a_failing_seed_is_one_line_and_the_scratch_database_is_dropped(tmp_path, pg_url, request):
    tests = {"t.sql": "-- test: x\nSELECT 1;\n"}
    seed = {
        "01.sql": "INSERT INTO accounts (id, name) VALUES (1, 'a');\nINSERT INTO nope VALUES (1);\n"
    }
    project = make_project(tmp_path / "p", pg_url, request, tests, seed=seed)
    result = cli(project, "test")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output
    assert errors[0].startswith("error: tests/seed/01.sql:2: seed statement failed")
    assert scratch_leftovers(pg_url) == []


def test_to_migrates_the_scratch_database_only_that_far(tmp_path, sqlite_url, request):
    tests = {
        "t.sql": (
            "-- test: V2 has not run\n-- expect error: no such column\nSELECT note FROM accounts;\n"
        )
    }
    project = make_project(tmp_path / "p", sqlite_url, request, tests)
    assert cli(project, "test", "--to", "1").exit_code == 0
    assert cli(project, "test").exit_code == 1


def test_sql_files_that_are_not_tests_are_skipped_with_a_note(tmp_path, sqlite_url, request):
    tests = {"t.sql": "-- test: a\nSELECT 1;\n", "fixtures/rows.sql": "INSERT INTO x VALUES (1);\n"}
    project = make_project(tmp_path / "p", sqlite_url, request, tests)
    result = cli(project, "test")
    assert result.exit_code == 0, result.output
    assert "tests/fixtures/rows.sql: no '-- test: NAME' block" in result.stderr
    only = cli(project, "test", "--tests", "tests/fixtures")
    assert only.exit_code == 1 and "error: no SQL tests in tests/fixtures/" in only.stderr


def test_tests_and_seeds_see_the_placeholders_of_the_migrations(tmp_path, sqlite_url, request):
    config = '\n[placeholders]\nowner = "ann"\n'
    seed = {"01.sql": "INSERT INTO accounts (id, name) VALUES (1, '${owner}');\n"}
    tests = {
        "t.sql": "-- test: seeded with the placeholder\n-- expect: ${owner}\nSELECT name FROM accounts;\n"
    }
    project = make_project(tmp_path / "p", sqlite_url, request, tests, seed=seed, config=config)
    result = cli(project, "test")
    assert result.exit_code == 0, result.output
    (project / "tests" / "t.sql").write_text("-- test: x\n-- expect: ${nope}\nSELECT 1;\n")
    result = cli(project, "test")
    assert result.exit_code == 1
    assert "error: tests/t.sql:2: unknown placeholder ${nope}" in result.stderr


def test_json_output(tmp_path, sqlite_url, request):
    tests = {
        "t.sql": "-- test: one\n-- expect: 1\nSELECT 1;\n-- test: two\n-- expect: 3\nSELECT 2;\n"
    }
    project = make_project(tmp_path / "p", sqlite_url, request, tests)
    result = cli(project, "test", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"] == {"passed": 1, "failed": 1, "errors": 0, "skipped": 0}
    assert data["engine"] == "sqlite" and data["ok"] is False
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed[0]["file"] == "tests/t.sql" and failed[0]["line"] == 4
    assert "expected: 3\nactual:   2" in failed[0]["details"]


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"bad.sql": b"-- test: x\nSELECT '\xff\xfe';\n"}, [], "tests/bad.sql:2: not UTF-8 text"),
        (
            {"t.sql": b"-- test: x\nSELECT 1;\n-- expect: 1\n"},
            [],
            "tests/t.sql:3: unterminated expectation",
        ),
        ({"t.sql": b"-- test: x\nSELECT 1;\n"}, ["--to", "7"], "--to 7: no migration has that"),
        ({"t.sql": b"-- test: x\nSELECT 1;\n"}, ["--to", "x1"], "--to: 'x1' is not a version"),
        ({}, [], "no SQL tests in tests/"),
        ({"t.sql": b"-- test: x\nSELECT 1;\n"}, ["--junit", "t.sql/x.xml"], "cannot write it"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_1(
    tmp_path, sqlite_url, request, files, args, message
):
    project = make_project(tmp_path / "p", sqlite_url, request, {})
    for name, data in files.items():
        (project / "tests").mkdir(exist_ok=True)
        (project / "tests" / name).write_bytes(data)
    args = [a.replace("t.sql/", str(project / "tests" / "t.sql") + "/") for a in args]
    result = cli(project, "test", *args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_a_ci_cancel_during_a_test_still_drops_the_scratch_database(
    tmp_path, pg_url, request, signal_name
):
    import signal
    import subprocess
    import sys
    import time

    tests = {"slow.sql": "-- test: takes a while\nSELECT pg_sleep(120);\n"}
    project = make_project(tmp_path / "p", pg_url, request, tests)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbfleet", "-C", str(project), "test"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    mine = (
        f"SELECT datname FROM pg_database WHERE datname LIKE 'dbfleet\\_scratch\\_{proc.pid}\\_%'"
    )
    active = (
        "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' "
        f"AND datname LIKE 'dbfleet\\_scratch\\_{proc.pid}\\_%'"
    )
    try:
        deadline = time.monotonic() + 30
        while query(pg_url, active) != [(1,)]:
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(getattr(signal, signal_name))
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err
    assert query(pg_url, mine) == []


def test_a_failing_migration_is_an_errored_test_in_the_report(tmp_path, sqlite_url, request):
    migrations = {**MIGRATIONS, "V3__broken.sql": "ALTER TABLE nowhere ADD COLUMN x INT;\n"}
    tests = {"t.sql": "-- test: a\nSELECT 1;\n"}
    project = make_project(tmp_path / "p", sqlite_url, request, tests, migrations=migrations)
    junit = tmp_path / "junit.xml"
    result = cli(project, "test", "--junit", str(junit), "--undo-check")
    assert result.exit_code == 1
    assert "no test was run" in result.stderr and "Traceback" not in result.output
    assert "V3__broken.sql:1: statement 1 failed: no such table: nowhere" in result.stdout
    (suite,) = ET.parse(junit).getroot().findall("testsuite")
    assert (suite.get("name"), suite.get("errors"), suite.get("tests")) == ("migrations", "1", "1")
