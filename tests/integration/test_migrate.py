"""Versioned migrations on every engine: migrate, status, validate, repair, undo, baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import cli, history, query, tables, write_project

THREE = {
    "V1__create_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100));\n",
    "U1__create_users.sql": "DROP TABLE users;\n",
    "V2__add_email.sql": "ALTER TABLE users ADD COLUMN email VARCHAR(200);\n"
    "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'ann@example.com');\n",
    "U2__add_email.sql": "DELETE FROM users WHERE id = 1;\nALTER TABLE users DROP COLUMN email;\n",
    "V10__create_orders.sql": "-- orders belong to users\n"
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n",
    "U10__create_orders.sql": "DROP TABLE orders;\n",
}


def status_of(project: Path) -> dict[str, str]:
    result = cli(project, "status", "--json")
    assert result.exit_code == 0, result.output
    return {m["script"]: m["state"] for m in json.loads(result.stdout)["migrations"]}


def test_migrate_applies_pending_migrations_in_numeric_version_order(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    result = cli(project, "migrate")
    assert result.exit_code == 0, result.output
    assert "applied 3 migration(s)" in result.output
    assert {"users", "orders", "dbfleet_schema_history"} <= tables(db_url)
    assert history(db_url) == [("1", "SQL", True), ("2", "SQL", True), ("10", "SQL", True)]
    assert query(db_url, "SELECT email FROM users") == [("ann@example.com",)]


def test_second_migrate_has_nothing_to_do(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    cli(project, "migrate")
    result = cli(project, "migrate")
    assert result.exit_code == 0
    assert "up to date" in result.output
    assert len(history(db_url)) == 3


def test_status_lists_applied_and_pending_with_dates(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    cli(project, "migrate", "--target", "2")
    data = json.loads(cli(project, "status", "--json").stdout)
    states = {m["script"]: m["state"] for m in data["migrations"]}
    assert states == {
        "V1__create_users.sql": "applied",
        "V2__add_email.sql": "applied",
        "V10__create_orders.sql": "pending",
    }
    assert data["current_version"] == "2"
    applied = [m for m in data["migrations"] if m["state"] == "applied"]
    assert all(m["installed_on"] and m["installed_by"] for m in applied)
    human = cli(project, "info")
    assert human.exit_code == 0 and "pending" in human.stdout and "applied" in human.stdout


def test_edited_applied_migration_is_caught_by_validate_and_accepted_by_repair(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    cli(project, "migrate")
    edited = project / "migrations" / "V2__add_email.sql"
    edited.write_text(edited.read_text() + "-- an afterthought\n")

    result = cli(project, "validate")
    assert result.exit_code == 1
    assert "V2__add_email.sql was edited after it was applied" in result.output
    assert status_of(project)["V2__add_email.sql"] == "changed"

    blocked = cli(project, "migrate")
    assert blocked.exit_code == 1 and "validation failed" in blocked.output

    repaired = cli(project, "repair")
    assert repaired.exit_code == 0
    assert "realigned the checksum" in repaired.output
    assert cli(project, "validate").exit_code == 0


def test_missing_file_is_reported_and_repair_marks_it_deleted(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    cli(project, "migrate")
    (project / "migrations" / "V10__create_orders.sql").unlink()
    (project / "migrations" / "U10__create_orders.sql").unlink()
    assert status_of(project)["V10__create_orders.sql"] == "missing"
    assert cli(project, "validate").exit_code == 1
    assert "marked V10__create_orders.sql as deleted" in cli(project, "repair").output
    assert cli(project, "validate").exit_code == 0


def test_undo_reverts_the_latest_migration_and_migrate_reapplies_it(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    cli(project, "migrate")
    result = cli(project, "undo")
    assert result.exit_code == 0, result.output
    assert "orders" not in tables(db_url)
    assert status_of(project)["V10__create_orders.sql"] == "undone"
    assert cli(project, "migrate").exit_code == 0
    assert "orders" in tables(db_url)
    assert [h[1] for h in history(db_url)] == ["SQL", "SQL", "SQL", "UNDO_SQL", "SQL"]


def test_undo_to_a_version_runs_undo_scripts_in_reverse_order(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    cli(project, "migrate")
    result = cli(project, "undo", "--to", "1", "--json")
    assert result.exit_code == 0, result.output
    undone = [u["script"] for u in json.loads(result.stdout)["undone"]]
    assert undone == ["U10__create_orders.sql", "U2__add_email.sql"]
    assert tables(db_url) >= {"users"} and "orders" not in tables(db_url)
    assert query(db_url, "SELECT COUNT(*) FROM users") == [(0,)]
    assert cli(project, "undo", "--to", "0").exit_code == 0
    assert "users" not in tables(db_url)


def test_undo_refuses_when_an_undo_script_is_missing_and_changes_nothing(tmp_path, db_url):
    files = {k: v for k, v in THREE.items() if k != "U2__add_email.sql"}
    project = write_project(tmp_path, db_url, files)
    cli(project, "migrate")
    result = cli(project, "undo", "--to", "0")
    assert result.exit_code == 1
    assert "no undo script for V2__add_email.sql" in result.output
    assert "orders" in tables(db_url)


def test_dry_run_prints_the_exact_sql_including_history_writes_and_changes_nothing(
    tmp_path, db_url
):
    project = write_project(tmp_path, db_url, THREE)
    result = cli(project, "migrate", "--dry-run")
    assert result.exit_code == 0, result.output
    sql = result.stdout
    assert "CREATE TABLE IF NOT EXISTS" in sql and "dbfleet_schema_history" in sql
    assert "CREATE TABLE users" in sql and "CREATE TABLE orders" in sql
    assert sql.count("INSERT INTO") == 3 + sql.count("INSERT INTO users")
    assert sql.index("V2__add_email.sql") < sql.index("V10__create_orders.sql")
    assert tables(db_url) == set()


def test_baseline_adopts_an_existing_database_and_skips_older_migrations(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    query_url = db_url
    from dbfleet.dburl import parse_url
    from dbfleet.engines import connect

    with connect(parse_url(query_url)) as conn:  # a database made by hand, before dbfleet
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100))")
        conn.execute("ALTER TABLE users ADD COLUMN email VARCHAR(200)")
    result = cli(project, "baseline", "--version", "2")
    assert result.exit_code == 0, result.output
    states = status_of(project)
    assert states["V1__create_users.sql"] == "below baseline"
    assert states["V10__create_orders.sql"] == "pending"
    assert cli(project, "migrate").exit_code == 0
    assert "orders" in tables(db_url)
    again = cli(project, "baseline", "--version", "3")
    assert again.exit_code == 1 and "already has a history" in again.output


def test_repeatable_migration_reruns_only_when_its_checksum_changes(tmp_path, db_url):
    files = {
        "V1__create_users.sql": THREE["V1__create_users.sql"],
        "R__user_names.sql": "CREATE VIEW user_names AS SELECT name FROM users;\n",
    }
    project = write_project(tmp_path, db_url, files)
    assert cli(project, "migrate").exit_code == 0
    assert cli(project, "migrate").output.count("applied") == 0
    (project / "migrations" / "R__user_names.sql").write_text(
        "DROP VIEW user_names;\nCREATE VIEW user_names AS SELECT name, id FROM users;\n"
    )
    assert status_of(project)["R__user_names.sql"] == "outdated"
    result = cli(project, "migrate")
    assert result.exit_code == 0 and "R__user_names.sql" in result.output
    assert status_of(project)["R__user_names.sql"] == "applied"
    assert query(db_url, "SELECT COUNT(*) FROM user_names") == [(0,)]


def test_placeholders_from_config_and_command_line_fill_scripts(tmp_path, db_url):
    files = {
        "V1__t.sql": "CREATE TABLE ${prefix}_items (id INTEGER, label VARCHAR(20) DEFAULT '${label}');\n"
    }
    project = write_project(tmp_path, db_url, files, extra='[placeholders]\nprefix = "shop"\n')
    assert cli(project, "migrate").exit_code == 1  # ${label} is undefined
    result = cli(project, "migrate", "-p", "label=new")
    assert result.exit_code == 0, result.output
    assert "shop_items" in tables(db_url)


def test_callbacks_run_around_migrations_but_are_not_recorded(tmp_path, db_url):
    files = {
        "beforeMigrate.sql": "CREATE TABLE IF NOT EXISTS audit (event VARCHAR(50));\n",
        "afterEachMigrate.sql": "INSERT INTO audit (event) VALUES ('${dbfleet:filename}');\n",
        "afterMigrate.sql": "INSERT INTO audit (event) VALUES ('done');\n",
        "V1__a.sql": "CREATE TABLE a (id INTEGER);\n",
        "V2__b.sql": "CREATE TABLE b (id INTEGER);\n",
    }
    project = write_project(tmp_path, db_url, files)
    assert cli(project, "migrate").exit_code == 0
    events = [r[0] for r in query(db_url, "SELECT event FROM audit")]
    assert events == ["V1__a.sql", "V2__b.sql", "done"]
    assert [h[0] for h in history(db_url)] == ["1", "2"]


def test_new_migration_older_than_the_latest_applied_is_out_of_order(tmp_path, db_url):
    project = write_project(tmp_path, db_url, THREE)
    cli(project, "migrate")
    (project / "migrations" / "V3__late.sql").write_text("CREATE TABLE late (id INTEGER);\n")
    assert status_of(project)["V3__late.sql"] == "out of order"
    blocked = cli(project, "migrate")
    assert blocked.exit_code == 1 and "--out-of-order" in blocked.output
    assert cli(project, "migrate", "--out-of-order").exit_code == 0
    assert "late" in tables(db_url)


@pytest.mark.parametrize("flag", ["--json"])
def test_migrate_json_lists_what_was_applied(tmp_path, db_url, flag):
    project = write_project(tmp_path, db_url, THREE)
    data = json.loads(cli(project, "migrate", flag).stdout)
    assert [a["script"] for a in data["applied"]] == [
        "V1__create_users.sql",
        "V2__add_email.sql",
        "V10__create_orders.sql",
    ]
