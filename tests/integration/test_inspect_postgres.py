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
    assert (
        "dbfleet_schema_history" in cli(project, "inspect", "env:dev", "--include-history").stdout
    )

    assert cli(project, "inspect", "env:dev", "-f", "json", "-o", "model.json").exit_code == 0
    assert cli(project, "inspect", "file:model.json").stdout == sql.stdout

    split_run = cli(project, "inspect", "env:dev", "-o", "schema", "--split")
    assert split_run.exit_code == 0, split_run.output
    table = (project / "schema" / "billing" / "tables" / "invoices.sql").read_text()
    assert "CREATE TABLE billing.invoices" in table and "CREATE INDEX invoices_open" in table
    assert (project / "schema" / "billing" / "views" / "open_totals.sql").exists()
    assert (project / "schema" / "billing" / "functions" / "add.sql").read_text().count(
        "CREATE"
    ) == 2
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


@pytest.mark.parametrize(
    "source, message",
    [
        ("nonsense", "is not a schema source"),
        ("file:missing.json", "does not exist"),
        ("env:nope", "unknown environment"),
    ],
)
def test_bad_sources_get_one_clear_line(tmp_path, pg_url, source, message):
    project = write_project(tmp_path, pg_url)
    result = cli(project, "inspect", source)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output


def test_model_file_of_another_format_version_is_refused(tmp_path, pg_url):
    project = write_project(tmp_path, pg_url)
    (project / "old.json").write_text('{"format": 99, "engine": "postgresql"}')
    result = cli(project, "inspect", "file:old.json")
    assert result.exit_code == 1 and "format 99 is not supported" in result.stderr


def test_desired_state_folder_inspects_equal_to_the_database_it_came_from(
    tmp_path, pg_url, postgres_server
):
    """The metadata-as-code loop: split a live schema into files, load them, compare."""
    load(pg_url, (FIXTURES / "kitchen_sink.sql").read_text())
    project = write_project(tmp_path, pg_url, extra=f'scratch_url = "{postgres_server}"\n')
    assert cli(project, "inspect", "env:dev", "-o", "schema", "--split").exit_code == 0
    from_files = cli(project, "inspect", "dir:schema", "-f", "json")
    assert from_files.exit_code == 0, from_files.output
    assert from_files.stdout == cli(project, "inspect", "env:dev", "-f", "json").stdout


@pytest.fixture
def scratch_prefix():
    """Scratch databases of this process (the CLI runs in-process), not of parallel tests."""
    import os

    return f"dbfleet_scratch_{os.getpid()}_"


def test_migrations_source_replays_into_a_scratch_database_that_is_dropped(
    tmp_path, pg_url, postgres_server, scratch_prefix
):
    files = {
        "V1__all.sql": (FIXTURES / "kitchen_sink.sql").read_text(),
        "V2__later.sql": "CREATE TABLE billing.later (id int);\n",
    }
    load(pg_url, files["V1__all.sql"])
    project = write_project(tmp_path, pg_url, files, extra=f'scratch_url = "{postgres_server}"\n')
    at_one = cli(project, "inspect", "migrations@1", "-f", "json")
    assert at_one.exit_code == 0, at_one.output
    assert at_one.stdout == cli(project, "inspect", "env:dev", "-f", "json").stdout
    assert "billing.later" in cli(project, "inspect", "migrations").stdout
    leftovers = f"SELECT count(*) FROM pg_database WHERE datname LIKE '{scratch_prefix}%'"
    from tests.support import query

    assert query(postgres_server, leftovers) == [(0,)]


def test_folder_that_cannot_be_applied_names_file_and_line_and_leaves_no_scratch(
    tmp_path, pg_url, postgres_server, scratch_prefix
):
    project = write_project(tmp_path, pg_url, extra=f'scratch_url = "{postgres_server}"\n')
    tables = project / "schema" / "public" / "tables"
    tables.mkdir(parents=True)
    (tables / "a.sql").write_text("CREATE TABLE a (id int PRIMARY KEY);\n")
    (tables / "b.sql").write_text("-- needs c\nCREATE TABLE b (id int REFERENCES c);\n")
    result = cli(project, "inspect", "dir:schema")
    assert result.exit_code == 1
    assert (
        "schema/public/tables/b.sql:2" in result.stderr
        and 'relation "c" does not exist' in result.stderr
    )
    from tests.support import query

    assert query(
        postgres_server, f"SELECT count(*) FROM pg_database WHERE datname LIKE '{scratch_prefix}%'"
    ) == [(0,)]


@pytest.mark.smoke
def test_without_a_scratch_url_the_embedded_postgresql_is_the_scratch_server(tmp_path, pg_url):
    project = write_project(tmp_path, pg_url)
    tables = project / "schema" / "public" / "tables"
    tables.mkdir(parents=True)
    (tables / "orders.sql").write_text(
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);\n"
    )
    (tables / "customers.sql").write_text("CREATE TABLE customers (id bigint PRIMARY KEY);\n")
    result = cli(project, "inspect", "dir:schema")
    assert result.exit_code == 0, result.output
    assert (
        "CREATE TABLE public.orders" in result.stdout
        and "FOREIGN KEY (customer_id)" in result.stdout
    )


def test_privileges_and_owners_only_when_asked_and_they_round_trip(tmp_path, pg_url, second_pg_url):
    load(
        pg_url,
        """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfleet_test_reader') THEN
            CREATE ROLE dbfleet_test_reader;
          END IF;
        END $$;
        CREATE SCHEMA app;
        CREATE TABLE app.t (a int, b text);
        GRANT USAGE ON SCHEMA app TO dbfleet_test_reader WITH GRANT OPTION;
        GRANT SELECT ON app.t TO dbfleet_test_reader;
        GRANT UPDATE (b) ON app.t TO dbfleet_test_reader;
        CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
        REVOKE EXECUTE ON FUNCTION app.f() FROM PUBLIC;
    """,
    )
    project = write_project(tmp_path, pg_url)
    plain = cli(project, "inspect", "env:dev").stdout
    assert "GRANT" not in plain and "OWNER TO" not in plain
    full = cli(project, "inspect", "env:dev", "--privileges", "--owners").stdout
    assert "GRANT SELECT ON TABLE app.t TO dbfleet_test_reader;" in full
    assert "GRANT UPDATE (b) ON TABLE app.t TO dbfleet_test_reader;" in full
    assert "GRANT USAGE ON SCHEMA app TO dbfleet_test_reader WITH GRANT OPTION;" in full
    assert "REVOKE EXECUTE ON FUNCTION app.f() FROM PUBLIC;" in full
    assert "ALTER TABLE app.t OWNER TO" in full
    load(second_pg_url, full)
    copy = write_project(tmp_path / "copy", second_pg_url)
    assert cli(copy, "inspect", "env:dev", "--privileges", "--owners").stdout == full


def test_the_model_does_not_depend_on_the_inspecting_session(pg_url, second_pg_url):
    """Time zone, date style, interval style and search_path of the client change nothing."""
    load(pg_url, (FIXTURES / "dependency_order.sql").read_text())
    load(
        pg_url,
        "CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('ok');"
        "CREATE SEQUENCE app.people_seq;"
        "CREATE TABLE app.people (id int DEFAULT nextval('app.people_seq'), m app.mood DEFAULT 'ok');",
    )
    plain = model_of(pg_url)
    odd = "options=-c%20TimeZone%3DAmerica/New_York%20-c%20DateStyle%3DSQL,DMY%20-c%20IntervalStyle%3Diso_8601%20-c%20search_path%3Dapp,public"
    assert model_of(f"{pg_url}?{odd}") == plain
    load(second_pg_url, render(model_of(f"{pg_url}?{odd}")))  # and what it renders loads
    assert model_of(second_pg_url) == plain


def test_settings_dbfleet_does_not_model_are_warned_about_not_dropped(tmp_path, pg_url):
    load(
        pg_url,
        """
        CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME custom_seq), body text);
        ALTER TABLE t ALTER COLUMN body SET STORAGE EXTERNAL;
        ALTER TABLE t REPLICA IDENTITY FULL;
        CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
        CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
        ALTER TABLE t ENABLE ALWAYS TRIGGER tr;
        CREATE TYPE pair AS (a int);
        COMMENT ON COLUMN pair.a IS 'first';
    """,
    )
    warnings = set(model_of(pg_url).warnings)
    for expected in (
        "storage, compression or statistics target of column public.t.body",
        "replica identity of public.t",
        "trigger firing mode (ENABLE REPLICA/ALWAYS) of public.t.tr",
        "comment on composite type attribute public.pair.a",
    ):
        assert f"{expected} is not modelled (left out)" in warnings


def test_an_identity_sequence_with_its_own_name_round_trips(pg_url, second_pg_url):
    load(
        pg_url,
        "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME custom_seq));"
        "CREATE TABLE u (id int GENERATED BY DEFAULT AS IDENTITY);"
        "ALTER TABLE u RENAME COLUMN id TO key;",  # keeps the sequence name u_id_seq
    )
    original = model_of(pg_url)
    assert original.warnings == ()
    load(second_pg_url, render(original))
    assert model_of(second_pg_url) == original
