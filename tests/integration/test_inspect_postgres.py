"""`dbfleet inspect` on PostgreSQL: exact models, deterministic DDL, and the round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbfleet.dburl import parse_url
from dbfleet.engines import connect, inspect, render
from dbfleet.engines.postgres.split import split
from dbfleet.schema.serialize import from_json, to_json
from tests.support import cli, write_project

pytestmark = pytest.mark.postgres

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inspect" / "postgres"


def load(url: str, sql: str) -> None:
    with connect(parse_url(url)) as conn:
        for statement in split(sql):
            conn.execute(statement.text)


def model_of(url: str):
    with connect(parse_url(url)) as conn:
        return inspect(conn)


@pytest.fixture
def second_pg_url(postgres_server):
    from tests.conftest import _fresh_postgres

    yield from _fresh_postgres(postgres_server)


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.sql")))
def test_inspect_render_load_inspect_is_the_identity(pg_url, second_pg_url, fixture):
    load(pg_url, (FIXTURES / fixture).read_text())
    original = model_of(pg_url)
    assert original.warnings == ()
    script = render(original)
    load(second_pg_url, script)
    copy = model_of(second_pg_url)
    assert copy == original
    assert render(copy) == script  # same schema, same bytes


def test_json_model_round_trips_and_is_versioned(pg_url):
    load(pg_url, (FIXTURES / "kitchen_sink.sql").read_text())
    model = model_of(pg_url)
    text = to_json(model)
    assert json.loads(text)["format"] == 1
    assert from_json(text) == model
    assert to_json(from_json(text)) == text


def test_cli_writes_sql_json_and_a_split_folder(tmp_path, pg_url):
    load(pg_url, (FIXTURES / "kitchen_sink.sql").read_text())
    project = write_project(tmp_path, pg_url, {"V1__noop.sql": "SELECT 1;\n"})
    assert cli(project, "migrate").exit_code == 0  # so a history table exists to be left out
    sql = cli(project, "inspect", "env:dev")
    assert sql.exit_code == 0, sql.output
    assert "CREATE TABLE billing.invoices" in sql.stdout
    assert "dbfleet_schema_history" not in sql.stdout
    assert "dbfleet_schema_history" in cli(project, "inspect", "env:dev", "--include-history").stdout

    assert cli(project, "inspect", "env:dev", "-f", "json", "-o", "model.json").exit_code == 0
    assert cli(project, "inspect", "file:model.json").stdout == sql.stdout

    split_run = cli(project, "inspect", "env:dev", "-o", "schema", "--split")
    assert split_run.exit_code == 0, split_run.output
    table = (project / "schema" / "billing" / "tables" / "invoices.sql").read_text()
    assert "CREATE TABLE billing.invoices" in table and "CREATE INDEX invoices_open" in table
    assert (project / "schema" / "billing" / "views" / "open_totals.sql").exists()
    assert (project / "schema" / "billing" / "functions" / "add.sql").read_text().count("CREATE") == 2
    # A dropped object's file disappears on the next split; unrelated SQL files stay.
    (project / "schema" / "notes.sql").write_text("-- mine\n")
    load(pg_url, "DROP VIEW billing.open_totals;")
    cli(project, "inspect", "env:dev", "-o", "schema", "--split")
    assert not (project / "schema" / "billing" / "views" / "open_totals.sql").exists()
    assert (project / "schema" / "notes.sql").exists()


def test_schema_and_exclude_narrow_the_model(tmp_path, pg_url):
    load(pg_url, (FIXTURES / "kitchen_sink.sql").read_text())
    load(pg_url, "CREATE TABLE public.other (id int);")
    project = write_project(tmp_path, pg_url)
    only = cli(project, "inspect", "env:dev", "--schema", "public").stdout
    assert "CREATE TABLE public.other" in only and "billing.invoices" not in only
    fewer = cli(project, "inspect", "env:dev", "-x", "billing.events*", "-x", "scratch").stdout
    assert "billing.events" not in fewer and "billing.scratch" not in fewer
    assert "billing.invoices" in fewer


def test_unmodelled_objects_are_warned_about_and_strict_fails(tmp_path, pg_url):
    load(pg_url, "CREATE TABLE t (a int); CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING;")
    project = write_project(tmp_path, pg_url)
    loose = cli(project, "inspect", "env:dev")
    assert loose.exit_code == 0 and "warning: rule public.t.r is not modelled" in loose.stderr
    strict = cli(project, "inspect", "env:dev", "--strict")
    assert strict.exit_code == 1 and "not modelled" in strict.stderr


@pytest.mark.parametrize("source, message", [
    ("nonsense", "is not a schema source"),
    ("file:missing.json", "does not exist"),
    ("env:nope", "unknown environment"),
])
def test_bad_sources_get_one_clear_line(tmp_path, pg_url, source, message):
    project = write_project(tmp_path, pg_url)
    result = cli(project, "inspect", source)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output


def test_model_file_of_another_format_version_is_refused(tmp_path, pg_url):
    project = write_project(tmp_path, pg_url)
    (project / "old.json").write_text('{"format": 99, "engine": "postgresql"}')
    result = cli(project, "inspect", "file:old.json")
    assert result.exit_code == 1 and "format 99 is not supported" in result.stderr
