"""`dbfleet inspect` on SQLite: exact models, deterministic DDL, and the round trip."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbfleet.dburl import parse_url
from dbfleet.engines import connect, inspect, render, render_files
from dbfleet.engines.base import Connection
from dbfleet.engines.sqlite.dialect import DIALECT
from dbfleet.schema.model import Model, attr
from dbfleet.schema.serialize import from_json, to_json
from tests.support import cli, write_project

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inspect" / "sqlite"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.sql"))


def load_fixture(path: Path, sql: str) -> None:
    """Run a script as the sqlite3 shell would: SQLite's own parser cuts the statements."""
    with closing(sqlite3.connect(path)) as db:
        db.executescript(sql)


def load(conn: Connection, sql: str) -> None:
    """Run a script as dbfleet runs one: cut by its splitter, one statement at a time."""
    for statement in DIALECT.split(sql):
        conn.execute(statement.text)


@contextmanager
def database(path: Path | str = ":memory:") -> Iterator[Connection]:
    with connect(parse_url(f"sqlite:///{path}")) as conn:
        yield conn


def model_of(path: Path) -> Model:
    with database(path) as conn:
        return inspect(conn)


def reloaded(script: str, path: Path | str = ":memory:") -> Model:
    with database(path) as conn:
        load(conn, script)
        return inspect(conn)


def structure(model: Model) -> Model:
    """The model without the CREATE TABLE text SQLite keeps: only what a diff compares."""
    return replace(
        model,
        tables=tuple(
            replace(t, attrs=tuple((k, v) for k, v in t.attrs if k != "sql")) for t in model.tables
        ),
    )


def fixture_model(tmp_path: Path, name: str) -> Model:
    load_fixture(tmp_path / "fixture.db", (FIXTURES / name).read_text())
    return model_of(tmp_path / "fixture.db")


# --- the round trip, fixture by fixture ---------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
def test_inspect_render_load_inspect_is_the_identity(tmp_path, fixture):
    original = fixture_model(tmp_path, fixture)
    assert original.warnings == ()
    script = render(original)
    copy = reloaded(script, tmp_path / "copy.db")
    assert copy == original
    assert render(copy) == script  # same schema, same bytes


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
def test_the_structure_alone_recreates_the_schema(tmp_path, fixture):
    """Columns, constraints, indexes, views and triggers hold all of it: tables rendered from
    them, not from SQLite's text, load back into the same structure."""
    original = structure(fixture_model(tmp_path, fixture))
    assert structure(reloaded(render(original))) == original


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
def test_json_model_round_trips_and_is_versioned(tmp_path, fixture):
    model = fixture_model(tmp_path, fixture)
    text = to_json(model)
    assert json.loads(text)["format"] == 1
    assert from_json(text) == model
    assert to_json(from_json(text)) == text


def test_the_realistic_schema_is_large_and_complete(tmp_path):
    model = fixture_model(tmp_path, "saas.sql")
    assert len(model.tables) >= 30 and len(model.views) >= 6
    assert sum(len(t.triggers) for t in model.tables) >= 10
    assert sum(len(t.indexes) for t in model.tables) >= 15


# --- what the model says ------------------------------------------------------------------------


def test_columns_keep_type_default_generation_and_collation_as_sqlite_has_them(tmp_path):
    columns = {c.name: c for t in fixture_model(tmp_path, "columns.sql").tables for c in t.columns}
    assert columns["d"].type == "varchar( 10 )"  # the declared type, as written
    assert columns["b"].type == "INTEGER"  # ... except that SQLite spells its own types
    assert columns["expression"].default == "1 + 2 * 3"  # the pragma drops the parentheses
    assert columns["bare_word"].default == "draft"
    assert columns["text_default"].default == "'it''s'"
    assert not columns["replaced"].nullable
    assert attr(columns["replaced"].attrs, "not_null_on_conflict") == "REPLACE"
    assert columns["added_later"].default == "'later'"

    lines = fixture_model(tmp_path, "generated_columns.sql").table("main", "order_lines")
    assert lines is not None
    total = lines.column("total")
    label = lines.column("label")
    assert total is not None and label is not None
    assert (total.generated, total.generated_kind) == ("quantity * unit_price", "STORED")
    assert (label.generated, label.generated_kind) == ("'line ' || id", "VIRTUAL")
    accounts = fixture_model(tmp_path, "collations.sql").table("main", "accounts")
    assert accounts is not None
    assert [c.collation for c in accounts.columns] == [None, "NOCASE", "RTRIM", "binary", "nocase"]


def test_tables_keep_without_rowid_strict_and_their_create_statement(tmp_path):
    model = fixture_model(tmp_path, "tables.sql")
    counters = model.table("main", "counters")
    assert counters is not None
    assert attr(counters.attrs, "strict") and attr(counters.attrs, "without_rowid")
    commented = model.table("main", "commented")
    assert commented is not None
    assert "-- a comment inside" in attr(commented.attrs, "sql")
    assert "trailing" not in attr(commented.attrs, "sql")


def test_constraints_have_one_definition_however_they_were_written(tmp_path):
    load_fixture(
        tmp_path / "a.db",
        "CREATE TABLE p (id INTEGER PRIMARY KEY);"
        "CREATE TABLE column_level (a INT UNIQUE REFERENCES P (ID) ON DELETE CASCADE, b INT CHECK (b > 0));"
        "CREATE TABLE table_level (a INT, b INT, UNIQUE (a), FOREIGN KEY (a) REFERENCES p (id) ON DELETE CASCADE, CHECK (b > 0));",
    )
    model = model_of(tmp_path / "a.db")
    column_level, table_level = (
        model.table("main", "column_level"),
        model.table("main", "table_level"),
    )
    assert column_level is not None and table_level is not None
    assert [c.definition for c in column_level.constraints] == [
        "UNIQUE (a)",
        "FOREIGN KEY (a) REFERENCES p (id) ON DELETE CASCADE",
        "CHECK (b > 0)",
    ]
    assert sorted(c.definition for c in column_level.constraints) == sorted(
        c.definition for c in table_level.constraints
    )
    fk = column_level.constraints[1]
    assert fk.references == ("main", "p", ("id",))  # the names it has, not as the text spells them


def test_unnamed_constraints_get_stable_names_that_do_not_collide(tmp_path):
    model = fixture_model(tmp_path, "unique.sql")
    users = model.table("main", "users")
    assert users is not None
    assert [c.name for c in users.constraints] == [
        "users_pkey",
        "users_email_key_2",  # users_email_key is the name of a check
        "users_handle_unique",
        "users_tenant_id_external_id_key",
        "users_email_key",
    ]
    products = fixture_model(tmp_path, "checks.sql").table("main", "products")
    assert products is not None
    checks = [c.name for c in products.constraints if c.kind == "check"]
    assert checks == [
        "products_check_1_2",
        "products_discount_range",
        "products_check_2",
        "products_check_3",
        "products_check_4",
        "products_check_5",
        "products_check_1",
        "products_check_6",
    ]


def test_foreign_keys_keep_actions_match_and_deferrable(tmp_path):
    model = fixture_model(tmp_path, "foreign_keys.sql")
    grants, users = model.table("main", "grants"), model.table("main", "users")
    assert grants is not None and users is not None
    assert [c.definition for c in grants.constraints if c.kind == "foreign key"] == [
        "FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) MATCH SIMPLE",
        "FOREIGN KEY (tenant_id) REFERENCES tenants DEFERRABLE",
        "FOREIGN KEY (user_id) REFERENCES users (id) NOT DEFERRABLE INITIALLY IMMEDIATE",
    ]
    invited = next(c for c in users.constraints if c.name == "users_invited_by")
    assert invited.definition == (
        "FOREIGN KEY (invited_by) REFERENCES users (id) ON DELETE SET DEFAULT "
        "DEFERRABLE INITIALLY DEFERRED"
    )
    slug = next(c for c in users.constraints if c.columns == ("tenant_slug",))
    assert slug.references == ("main", "tenants", ("slug",))  # written as Tenants (SLUG)


def test_primary_keys_keep_autoincrement_order_and_conflict_clause(tmp_path):
    model = fixture_model(tmp_path, "primary_keys.sql")

    def key(table: str) -> str:
        found = model.table("main", table)
        assert found is not None
        return next(c.definition for c in found.constraints if c.kind == "primary key")

    assert key("auto_column") == key("auto_table") == "PRIMARY KEY (id AUTOINCREMENT)"
    assert key("named_key") == "PRIMARY KEY (b DESC, a)"
    assert key("on_conflict") == "PRIMARY KEY (id) ON CONFLICT REPLACE"
    assert [t.name for t in model.tables if t.name.startswith("sqlite_")] == []


def test_indexes_keep_their_statement_predicate_and_columns(tmp_path):
    events = fixture_model(tmp_path, "indexes.sql").table("main", "events")
    assert events is not None
    indexes = {i.name: i for i in events.indexes}
    assert "sqlite_autoindex_events_1" not in indexes  # comes with the UNIQUE constraint
    live = indexes["events_live"]
    assert attr(live.attrs, "where") == "deleted_at IS NULL"
    assert live.columns == ("tenant_id", "created_at") and not live.unique
    assert indexes["events_one_open"].unique
    assert attr(indexes["events_day"].attrs, "expressions") and indexes["events_day"].columns == (
        "tenant_id",
    )
    # SQLite keeps a trailing comment in the text of an index; the model does not.
    spaced = indexes["events index with spaces"].definition
    assert spaced == 'CREATE INDEX "events index with spaces" on events (kind, id)'


def test_views_come_after_the_views_they_name(tmp_path):
    model = fixture_model(tmp_path, "views.sql")
    views = {v.name: v for v in model.views}
    assert attr(views["a_top"].attrs, "depends_on") == ("m_customer_totals",)
    assert attr(views["m_customer_totals"].attrs, "columns") == ("customer", "country", "total")
    assert views["recent_orders"].definition.endswith("ON c.id = r.customer_id")
    script = render(model)
    order = [
        script.index(f"CREATE VIEW {name}")
        for name in ("z_order_totals ", "m_customer_totals(", "a_top ")
    ]
    assert order == sorted(order)


def test_triggers_belong_to_their_table_or_view(tmp_path):
    model = fixture_model(tmp_path, "triggers.sql")
    accounts = model.table("main", "accounts")
    assert accounts is not None
    touch = next(t for t in accounts.triggers if t.name == "accounts_touch")
    assert dict(touch.attrs) == {
        "columns": ("balance", "status"),
        "event": "UPDATE",
        "timing": "AFTER",
    }
    view = next(v for v in model.views if v.name == "open_accounts")
    assert [t.name for t in view.triggers] == ["open_accounts_insert"]
    script = render(model)
    assert script.index("-- Triggers") > script.index("CREATE VIEW")


def test_tables_are_rendered_after_the_tables_they_reference(tmp_path):
    script = render(fixture_model(tmp_path, "saas.sql"))
    for referenced, referencing in [
        ("tenants", "users"),
        ("invoices", "payments"),
        ("tax_rates", "customers"),
    ]:
        if referencing == "users":
            continue  # users references nothing; name order decides
        assert script.index(f"CREATE TABLE {referenced} (") < script.index(
            f"CREATE TABLE {referencing} ("
        )
    assert "sqlite_autoindex" not in script and "sqlite_sequence" not in script
    assert "sqlite_stat" not in script


def test_split_files_hold_a_table_with_its_indexes_and_triggers(tmp_path):
    files = render_files(fixture_model(tmp_path, "saas.sql"))
    invoices = files["main/tables/invoices.sql"]
    assert invoices.startswith("CREATE TABLE invoices (")
    assert (
        "CREATE INDEX invoices_open_due" in invoices
        and "CREATE TRIGGER invoices_number" in invoices
    )
    assert "CREATE TRIGGER active_users_rename" in files["main/views/active_users.sql"]
    assert all(path.startswith(("main/tables/", "main/views/")) for path in files)


# --- what the model leaves out ------------------------------------------------------------------


def test_virtual_tables_are_warned_about_and_left_out_with_their_shadow_tables(tmp_path):
    load_fixture(
        tmp_path / "a.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        "CREATE VIRTUAL TABLE notes_search USING fts5(body, content='notes');"
        "CREATE TABLE notes_search_extra (a);",  # a user table that merely shares the prefix
    )
    model = model_of(tmp_path / "a.db")
    assert [t.name for t in model.tables] == ["notes", "notes_search_extra"]
    assert model.warnings == (
        "virtual table main.notes_search (fts5) is not modelled (left out, with its tables "
        "notes_search_config, notes_search_data, notes_search_docsize, notes_search_idx)",
    )


def test_virtual_table_of_a_module_that_is_not_loaded_is_warned_about_not_an_error(tmp_path):
    load_fixture(
        tmp_path / "a.db",
        "CREATE TABLE t (a); PRAGMA writable_schema = ON;"
        "INSERT INTO sqlite_master VALUES ('table', 'ext', 'ext', 0, 'CREATE VIRTUAL TABLE ext USING elsewhere(a)');",
    )
    model = model_of(tmp_path / "a.db")
    assert [t.name for t in model.tables] == ["t"]
    assert model.warnings == ("virtual table main.ext (elsewhere) is not modelled (left out)",)


def test_a_table_the_reader_cannot_read_is_still_modelled_from_the_pragmas(tmp_path):
    """For CREATE TABLE syntax newer than the reader: keys from the pragmas, a warning, and
    SQLite's own text for rendering."""
    from dbfleet.engines.sqlite import inspect as sqlite_inspect

    def unreadable(sql: str) -> NoReturn:
        raise sqlite_inspect.Unreadable("something new")

    load_fixture(
        tmp_path / "a.db",
        "CREATE TABLE p (id INTEGER PRIMARY KEY);"
        "CREATE TABLE t (a INT, b INT REFERENCES p, c TEXT COLLATE NOCASE CHECK (c <> ''), "
        "PRIMARY KEY (b, a));",
    )
    with database(tmp_path / "a.db") as conn:
        model = sqlite_inspect.inspect(conn, read=unreadable)
    t = model.table("main", "t")
    assert t is not None
    assert [(c.name, c.definition) for c in t.constraints] == [
        ("t_pkey", "PRIMARY KEY (b, a)"),
        ("t_b_fkey", "FOREIGN KEY (b) REFERENCES p"),
    ]
    assert any(
        w.startswith("table main.t: its CREATE TABLE could not be read") for w in model.warnings
    )
    assert "CHECK (c <> '')" in render(model)


def test_without_pragma_table_list_shadow_tables_are_known_by_name(tmp_path):
    """SQLite before 3.37 has no pragma_table_list: sqlite_master alone must give its answer."""
    from dbfleet.engines.sqlite import inspect as sqlite_inspect

    load_fixture(
        tmp_path / "a.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY);"
        "CREATE VIRTUAL TABLE notes_search USING fts5(body);",
    )
    with database(tmp_path / "a.db") as conn:
        objects = conn.records(sqlite_inspect.OBJECTS_QUERY)
        from_pragma = {r["name"]: r["type"] for r in conn.records(sqlite_inspect.TABLE_LIST_QUERY)}
    by_name = sqlite_inspect.table_kinds_by_name(objects)
    assert {k: v for k, v in from_pragma.items() if k in by_name} == by_name
    assert by_name["notes"] == "table" and by_name["notes_search"] == "virtual"


def test_a_temp_table_does_not_hide_the_main_one(tmp_path):
    load_fixture(tmp_path / "a.db", "CREATE TABLE t (a INT, b INT);")
    with database(tmp_path / "a.db") as conn:
        conn.execute("CREATE TEMP TABLE t (other TEXT)")
        model = inspect(conn)
    assert [c.name for c in model.tables[0].columns] == ["a", "b"]


def test_inspection_reads_the_catalog_with_a_fixed_number_of_queries(tmp_path):
    def queries_for(tables: int) -> int:
        path = tmp_path / f"{tables}.db"
        load_fixture(
            path,
            "".join(
                f"CREATE TABLE t{n} (id INTEGER PRIMARY KEY, p INT REFERENCES t0 (id), v TEXT UNIQUE);"
                f"CREATE INDEX t{n}_v ON t{n} (v, p);"
                for n in range(tables)
            ),
        )
        seen: list[str] = []
        with database(path) as conn:
            conn.raw.set_trace_callback(seen.append)  # type: ignore[attr-defined]
            assert len(inspect(conn).tables) == tables
        # SQLite traces what a pragma function runs inside a query too, as "-- PRAGMA ...".
        return len([sql for sql in seen if not sql.startswith("-- ")])

    assert queries_for(3) == queries_for(40) <= 5


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def saas_project(tmp_path: Path) -> Path:
    database_path = tmp_path / "app.db"
    load_fixture(database_path, (FIXTURES / "saas.sql").read_text())
    return write_project(
        tmp_path / "project", f"sqlite:///{database_path}", {"V1__noop.sql": "SELECT 1;\n"}
    )


def test_cli_writes_sql_json_and_a_split_folder(saas_project):
    project = saas_project
    assert cli(project, "migrate").exit_code == 0  # so a history table exists to be left out
    sql = cli(project, "inspect", "env:dev")
    assert sql.exit_code == 0, sql.output
    assert "CREATE TABLE invoices (" in sql.stdout and "-- dbfleet schema (SQLite)" in sql.stdout
    assert "dbfleet_schema_history" not in sql.stdout
    assert (
        "dbfleet_schema_history" in cli(project, "inspect", "env:dev", "--include-history").stdout
    )

    assert cli(project, "inspect", "env:dev", "-f", "json", "-o", "model.json").exit_code == 0
    assert json.loads((project / "model.json").read_text())["engine"] == "sqlite"
    assert cli(project, "inspect", "file:model.json").stdout == sql.stdout

    split = cli(project, "inspect", "env:dev", "-o", "schema", "--split")
    assert split.exit_code == 0, split.output
    table = (project / "schema" / "main" / "tables" / "invoices.sql").read_text()
    assert "CREATE TABLE invoices (" in table and "CREATE INDEX invoices_open_due" in table
    assert (project / "schema" / "main" / "views" / "tenant_overview.sql").exists()
    assert not (project / "schema" / "main" / "tables" / "dbfleet_schema_history.sql").exists()


def test_a_split_folder_inspects_equal_to_the_database_it_came_from(saas_project):
    project = saas_project
    assert cli(project, "inspect", "env:dev", "-o", "schema", "--split").exit_code == 0
    from_files = cli(project, "inspect", "dir:schema", "-f", "json")
    assert from_files.exit_code == 0, from_files.output
    assert from_files.stdout == cli(project, "inspect", "env:dev", "-f", "json").stdout


def test_the_migrations_inspect_equal_to_the_database_they_built(tmp_path):
    project = write_project(
        tmp_path / "project",
        f"sqlite:///{tmp_path / 'app.db'}",
        {"V1__schema.sql": (FIXTURES / "saas.sql").read_text()},
    )
    assert cli(project, "migrate").exit_code == 0
    replayed = cli(project, "inspect", "migrations", "-f", "json")
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout == cli(project, "inspect", "env:dev", "-f", "json").stdout


def test_unmodelled_objects_are_warned_about_and_strict_fails(tmp_path):
    load_fixture(tmp_path / "app.db", "CREATE TABLE t (a); CREATE VIRTUAL TABLE s USING fts5(a);")
    project = write_project(tmp_path / "project", f"sqlite:///{tmp_path / 'app.db'}")
    loose = cli(project, "inspect", "env:dev")
    assert (
        loose.exit_code == 0
        and "warning: virtual table main.s (fts5) is not modelled" in loose.stderr
    )
    strict = cli(project, "inspect", "env:dev", "--strict")
    assert strict.exit_code == 1 and "not modelled" in strict.stderr


# --- generated schemas --------------------------------------------------------------------------

TYPES = [
    "INTEGER",
    "INT",
    "TEXT",
    "REAL",
    "BLOB",
    "NUMERIC",
    "VARCHAR(20)",
    "DECIMAL(10, 2)",
    "",
    "double precision",
]
STRICT_TYPES = ["INTEGER", "INT", "TEXT", "REAL", "BLOB", "ANY"]
DEFAULTS = [
    "0",
    "-1",
    "+2.5",
    "'x'",
    "'it''s'",
    "NULL",
    "CURRENT_TIMESTAMP",
    "(1 + 2)",
    "(lower('AB'))",
    "TRUE",
    "x'00'",
    "plain_word",
]
COLLATIONS = ["NOCASE", "RTRIM", "BINARY", "nocase"]
REFERENCE_OPTIONS = [
    "",
    " ON DELETE CASCADE",
    " ON DELETE SET NULL ON UPDATE CASCADE",
    " ON UPDATE RESTRICT",
    " ON DELETE SET DEFAULT",
    " MATCH FULL",
    " DEFERRABLE INITIALLY DEFERRED",
    " NOT DEFERRABLE",
]


def sql_name(name: str, style: int = 0) -> str:
    """A name written the ways SQLite accepts: bare, "double", [bracketed] or `backticked`."""
    if style == 0 and name.isidentifier():
        return name
    if style == 2 and "]" not in name:
        return f"[{name}]"
    if style == 3:
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


@st.composite
def schemas(draw: st.DrawFn) -> str:
    """A small random schema as an SQL script: tables with keys, checks, generated columns,
    foreign keys to earlier tables, indexes (partial, on expressions) and views."""
    styles = st.integers(0, 3)
    out: list[str] = []
    keys: list[tuple[str, list[str]]] = []  # (table, key columns) foreign keys may reference
    tables: list[tuple[str, list[str]]] = []
    for t in range(draw(st.integers(1, 4))):
        table = draw(st.sampled_from([f"t{t}", f"T {t}", f'q"{t}']))
        columns = [
            draw(st.sampled_from([f"c{i}", f"C {i}", f"k{i}"]))
            for i in range(draw(st.integers(1, 5)))
        ]
        strict = draw(st.booleans())
        types = {c: draw(st.sampled_from(STRICT_TYPES if strict else TYPES)) for c in columns}
        pk_kind = draw(st.sampled_from(["none", "column", "table"]))
        pk = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=2, unique=True))
        if pk_kind == "column":
            pk = pk[:1]
        without_rowid = pk_kind != "none" and draw(st.booleans())
        autoincrement = (
            pk_kind != "none"
            and pk == pk[:1]
            and types[pk[0]] == "INTEGER"
            and not without_rowid
            and draw(st.booleans())
        )
        lines = []
        for c in columns:
            parts = [sql_name(c, draw(styles))]
            if types[c]:
                parts.append(types[c])
            if draw(st.booleans()):
                parts.append("COLLATE " + draw(st.sampled_from(COLLATIONS)))
            if draw(st.booleans()):
                parts.append("NOT NULL")
            if draw(st.booleans()):
                parts.append("DEFAULT " + draw(st.sampled_from(DEFAULTS)))
            if pk_kind == "column" and c == pk[0]:
                parts.append(draw(st.sampled_from(["", "CONSTRAINT pk "])) + "PRIMARY KEY")
                if autoincrement:
                    parts.append("AUTOINCREMENT")
                elif draw(st.booleans()):
                    parts.append(draw(st.sampled_from(["DESC", "ASC", "ON CONFLICT REPLACE"])))
            if draw(st.integers(0, 4)) == 0:
                parts.append("UNIQUE")
                keys.append((table, [c]))
            if draw(st.integers(0, 4)) == 0:
                parts.append(f"CHECK ({sql_name(c)} IS NULL OR length({sql_name(c)}) < 100)")
            if keys and draw(st.integers(0, 3)) == 0:
                target, target_columns = draw(st.sampled_from(keys))
                if len(target_columns) == 1:
                    parts.append(
                        f"REFERENCES {sql_name(draw(st.sampled_from([target, target.upper()])), draw(styles))}"
                        f" ({sql_name(target_columns[0])})"
                        + draw(st.sampled_from(REFERENCE_OPTIONS))
                    )
            lines.append(" ".join(parts))
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["STORED", "VIRTUAL", ""]))
            lines.append(
                f"generated {'TEXT ' if strict else ''}AS ({sql_name(columns[0])} || 'x') {kind}"
            )
        if pk_kind == "table":
            parts_ = ", ".join(
                sql_name(c) + draw(st.sampled_from(["", " DESC", " COLLATE NOCASE"])) for c in pk
            )
            if autoincrement:
                parts_ = f"{sql_name(pk[0])} AUTOINCREMENT"
            lines.append(
                f"{draw(st.sampled_from(['', 'CONSTRAINT the_key ']))}PRIMARY KEY ({parts_})"
            )
        if pk_kind != "none":
            keys.append((table, pk))
        if draw(st.booleans()):
            unique = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=3, unique=True))
            lines.append(f"UNIQUE ({', '.join(sql_name(c) for c in unique)})")
            keys.append((table, unique))
        if draw(st.booleans()):
            lines.append(f"CHECK ({sql_name(columns[-1])} <> '') ON CONFLICT FAIL")
        if keys and draw(st.booleans()):
            target, target_columns = draw(st.sampled_from(keys))
            if len(target_columns) <= len(columns):
                own = draw(st.permutations(columns))[: len(target_columns)]
                implicit = target_columns == pk and target == table and draw(st.booleans())
                lines.append(
                    f"{draw(st.sampled_from(['', 'CONSTRAINT fk ']))}FOREIGN KEY ({', '.join(sql_name(c) for c in own)}) "
                    f"REFERENCES {sql_name(target)}"
                    + ("" if implicit else f" ({', '.join(sql_name(c) for c in target_columns)})")
                    + draw(st.sampled_from(REFERENCE_OPTIONS))
                )
        options = [o for o, on in (("WITHOUT ROWID", without_rowid), ("STRICT", strict)) if on]
        body = ",\n    ".join(lines)
        out.append(
            f"CREATE TABLE {sql_name(table, draw(styles))} (\n    {body}\n) {', '.join(options)};"
        )
        tables.append((table, columns))
        for n in range(draw(st.integers(0, 2))):
            terms = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=2, unique=True))
            written = [
                draw(
                    st.sampled_from(
                        [
                            sql_name(c),
                            f"{sql_name(c)} DESC",
                            f"lower({sql_name(c)})",
                            f"{sql_name(c)} COLLATE NOCASE",
                        ]
                    )
                )
                for c in terms
            ]
            where = draw(st.sampled_from(["", f" WHERE {sql_name(terms[0])} IS NOT NULL"]))
            unique_ = draw(st.sampled_from(["", "UNIQUE "]))
            out.append(
                f"CREATE {unique_}INDEX {sql_name(f'{table}_i{n}')} ON {sql_name(table)} ({', '.join(written)}){where};"
            )
    views: list[str] = []
    for n in range(draw(st.integers(0, 3))):
        # Named so that name order is not dependency order: a later view may read an earlier one.
        name = f"v{9 - n}"
        if views and draw(st.booleans()):
            query = f"SELECT * FROM {draw(st.sampled_from(views))} -- a view on a view"
            head = sql_name(name)
        else:
            table, columns = draw(st.sampled_from(tables))
            query = (
                f"SELECT {', '.join(sql_name(c) for c in columns)} FROM {sql_name(table)} WHERE 1"
            )
            listed = draw(st.booleans())
            head = sql_name(name) + (
                f" ({', '.join(f'x{i}' for i in range(len(columns)))})" if listed else ""
            )
        out.append(f"CREATE VIEW {head} AS {query}\n;")
        views.append(name)
    return "\n".join(out)


@settings(
    max_examples=60,
    deadline=None,
    database=None,  # nothing written to the project folder
    suppress_health_check=[HealthCheck.too_slow],
)
@given(script=schemas())
def test_generated_schemas_round_trip(script):
    original = reloaded(script)
    assert original.warnings == ()
    rendered = render(original)
    copy = reloaded(rendered)
    assert copy == original
    assert render(copy) == rendered
    assert structure(reloaded(render(structure(original)))) == structure(original)
    assert from_json(to_json(original)) == original
