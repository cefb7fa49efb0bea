"""`dbfleet inspect` on MariaDB: exact models, deterministic DDL, and the round trip."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbfleet.dburl import parse_url
from dbfleet.engines import connect, inspect, render
from dbfleet.engines.mysql.split import split
from dbfleet.schema.layout import FOLDERS
from dbfleet.schema.model import Model
from dbfleet.schema.serialize import from_json, to_json
from tests.support import cli, write_project

pytestmark = pytest.mark.mysql

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inspect" / "mysql"


def load(url: str, sql: str) -> None:
    with connect(parse_url(url)) as conn:
        for statement in split(sql):
            conn.execute(statement.text)


def model_of(url: str) -> Model:
    with connect(parse_url(url)) as conn:
        return inspect(conn)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on the server (as conftest's mysql_url makes), dropped after."""
    name = f"dbfleet_test_{uuid.uuid4().hex[:12]}"
    with connect(parse_url(server)) as admin:
        admin.execute(f"CREATE DATABASE `{name}`")
        try:
            yield parse_url(server).with_database(name).full
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def second_mysql_url(mysql_server: str) -> Iterator[str]:
    with fresh_database(mysql_server) as url:
        yield url


def database_name(url: str) -> str:
    return parse_url(url).database


def server_printout(url: str) -> dict[str, str]:
    """SHOW CREATE of every table, view and event: the server's own account of the schema.

    An independent check on the model: what the inspector missed, both copies would miss
    alike, but the server prints it. Routines and triggers are left out (the server prints
    them as they were written). Normalized: definers, AUTO_INCREMENT counters, the order of
    keys (the model sorts them by name), the database name.
    """
    name = database_name(url)
    out = {}
    with connect(parse_url(url)) as conn:
        kinds = conn.query(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE()"
        )
        events = conn.query(
            "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
        )
        objects = [("VIEW" if kind == "VIEW" else "TABLE", table) for table, kind in kinds]
        for kind, obj in [*objects, *(("EVENT", e) for (e,) in events)]:
            text = conn.query(f"SHOW CREATE {kind} `{obj.replace('`', '``')}`")[0][
                -4 if kind == "EVENT" else 1
            ]
            text = re.sub(r" DEFINER=\S+", "", text).replace(f"`{name}`.", "")
            text = re.sub(r" AUTO_INCREMENT=\d+", "", text)
            lines = text.split("\n")
            columns = [line for line in lines if line.startswith("  `")]
            others = sorted(
                line.rstrip(",")
                for line in lines
                if line.startswith("  ") and not line.startswith("  `")
            )
            out[f"{kind} {obj}"] = "\n".join(
                [line for line in lines if not line.startswith("  ")] + columns + others
            )
    return out


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.sql")))
def test_inspect_render_load_inspect_is_the_identity(mysql_url, second_mysql_url, fixture):
    load(mysql_url, (FIXTURES / fixture).read_text())
    original = model_of(mysql_url)
    assert original.warnings == ()
    script = render(original)
    assert database_name(mysql_url) not in script  # nothing names the database it came from
    load(second_mysql_url, script)
    copy = model_of(second_mysql_url)
    assert copy == original  # the same schema under another database name is the same model
    assert render(copy) == script  # same schema, same bytes
    assert server_printout(second_mysql_url) == server_printout(mysql_url)


def test_the_model_holds_what_the_server_says(mysql_url):
    load(mysql_url, (FIXTURES / "saas.sql").read_text() + (FIXTURES / "routines.sql").read_text())
    model = model_of(mysql_url)
    assert {t.schema for t in model.tables} == {""}
    invoices = model.table("", "invoices")
    assert invoices is not None and invoices.comment.startswith("One row per invoice")
    total = invoices.column("total_cents")
    assert total.generated == "`subtotal_cents` + `tax_cents`" and total.generated_kind == "STORED"
    assert ("on_update", "current_timestamp()") in invoices.column("updated_at").attrs
    assert [tr.name for tr in invoices.triggers] == [
        "invoices_audit_delete",
        "invoices_audit_insert",
        "invoices_audit_update",
    ]
    kinds = {c.name: c.kind for c in invoices.constraints}
    assert kinds["PRIMARY"] == "primary key" and kinds["invoices_due"] == "check"
    assert kinds["invoices_subscription"] == "foreign key"
    fk = next(c for c in invoices.constraints if c.name == "invoices_subscription")
    assert fk.references == ("", "subscriptions", ("id",)) and "ON DELETE SET NULL" in fk.definition
    assert next(i for i in invoices.indexes if i.name == "invoices_customer").definition == (
        "KEY `invoices_customer` (`customer_id`,`issued_on` DESC)"
    )
    usage = model.table("", "usage_records")
    assert dict(usage.attrs)["partition_by"] == "RANGE COLUMNS (`recorded_on`)"
    assert len(dict(usage.attrs)["partitions"]) == 4
    assert {r.name: r.kind for r in model.routines}["sum_positive"] == "aggregate"
    assert {e.name for e in model.events} == {"nightly_overdue", "purge_sessions"}
    assert "DEFINER" not in render(model) and "AUTO_INCREMENT=" not in render(model)


def test_query_count_does_not_grow_with_the_number_of_tables(mysql_url):
    def queries_for(tables: int) -> int:
        load(
            mysql_url,
            "".join(
                f"CREATE TABLE IF NOT EXISTS t{i} (id INT PRIMARY KEY, p INT, KEY (p), "
                f"CONSTRAINT fk{i} FOREIGN KEY (p) REFERENCES t0 (id), CHECK (p > 0));"
                for i in range(tables)
            ),
        )
        with connect(parse_url(mysql_url)) as conn:
            calls = []
            records, query = conn.records, conn.query
            conn.records = lambda sql: calls.append(sql) or records(sql)
            conn.query = lambda sql: calls.append(sql) or query(sql)
            assert len(inspect(conn).tables) == tables
        return len(calls)

    assert queries_for(2) == queries_for(40) == 13


def test_json_model_round_trips_and_is_versioned(mysql_url):
    load(mysql_url, (FIXTURES / "saas.sql").read_text())
    model = model_of(mysql_url)
    text = to_json(model)
    assert json.loads(text)["format"] == 1 and json.loads(text)["engine"] == "mysql"
    assert from_json(text) == model
    assert to_json(from_json(text)) == text


def test_cli_writes_sql_json_and_a_split_folder(tmp_path, mysql_server, mysql_url):
    load(mysql_url, (FIXTURES / "saas.sql").read_text())
    expected = model_of(mysql_url)
    project = write_project(tmp_path, mysql_url, {"V1__noop.sql": "SELECT 1;\n"})
    assert cli(project, "migrate").exit_code == 0  # so a history table exists to be left out
    sql = cli(project, "inspect", "env:dev")
    assert sql.exit_code == 0, sql.output
    assert "CREATE TABLE `invoices` (" in sql.stdout
    assert "dbfleet_schema_history" not in sql.stdout
    assert (
        "dbfleet_schema_history" in cli(project, "inspect", "env:dev", "--include-history").stdout
    )

    assert cli(project, "inspect", "env:dev", "-f", "json", "-o", "model.json").exit_code == 0
    assert json.loads((project / "model.json").read_text())["engine"] == "mysql"
    assert cli(project, "inspect", "file:model.json").stdout == sql.stdout

    split_run = cli(project, "inspect", "env:dev", "-o", "schema", "--split")
    assert split_run.exit_code == 0, split_run.output
    root = project / "schema" / "default"
    table = (root / "tables" / "invoices.sql").read_text()
    assert table.startswith("CREATE TABLE `invoices` (")
    assert "ADD CONSTRAINT `invoices_customer` FOREIGN KEY" in table
    assert "CREATE TRIGGER `invoices_audit_update` AFTER UPDATE ON `invoices`" in table
    assert (root / "views" / "open_invoices.sql").exists()
    assert (root / "functions" / "invoice_balance.sql").read_text().startswith("DELIMITER $$\n")
    assert (root / "procedures" / "mark_overdue.sql").exists()
    assert "STARTS '2030-01-01 02:00:00'" in (root / "events" / "nightly_overdue.sql").read_text()
    assert not (root / "tables" / "dbfleet_schema_history.sql").exists()
    with fresh_database(mysql_server) as copy:  # the files load in layout order, any table order
        for folder in FOLDERS:
            for path in sorted((root / folder).glob("*.sql")):
                load(copy, path.read_text())
        assert model_of(copy) == expected

    load(mysql_url, "DROP VIEW active_users;")
    cli(project, "inspect", "env:dev", "-o", "schema", "--split")
    assert not (root / "views" / "active_users.sql").exists()


def test_unmodelled_objects_are_warned_about_and_strict_fails(tmp_path, mysql_url):
    load(
        mysql_url,
        """
        CREATE SEQUENCE invoice_numbers ENGINE=Aria;
        CREATE TABLE history (id INT) WITH SYSTEM VERSIONING
            PARTITION BY SYSTEM_TIME (PARTITION p_hist HISTORY, PARTITION p_cur CURRENT);
    """,
    )
    with connect(parse_url(mysql_url)) as conn:  # one session: the mode applies to the CREATE
        conn.execute("SET SESSION sql_mode = 'ANSI_QUOTES'")
        conn.execute('CREATE PROCEDURE quoted() SELECT 1 AS "one"')
    warnings = model_of(mysql_url).warnings
    assert "sequence invoice_numbers: ENGINE=Aria is not modelled" in warnings
    assert "table history: PARTITION BY SYSTEM_TIME is not modelled" in warnings
    assert any(
        w.startswith("procedure quoted was created with sql_mode 'ANSI_QUOTES'") for w in warnings
    )
    project = write_project(tmp_path, mysql_url)
    loose = cli(project, "inspect", "env:dev")
    assert loose.exit_code == 0 and "warning: sequence invoice_numbers: ENGINE=Aria" in loose.stderr
    strict = cli(project, "inspect", "env:dev", "--strict")
    assert strict.exit_code == 1 and "not modelled" in strict.stderr


# --- generated tables ---------------------------------------------------------------------------

_NAMES = st.sampled_from(["id", "name", "Total", "created at", "sel`ect", "über", "x1", "note"])
_TEXT = st.text(alphabet="ab '\"\\;%_é", max_size=12)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@st.composite
def column_definitions(draw: st.DrawFn, name: str) -> str:
    kind = draw(st.sampled_from(["int", "decimal", "string", "text", "time", "enum", "json"]))
    parts: list[str]
    if kind == "int":
        base = draw(st.sampled_from(["TINYINT", "SMALLINT", "INT", "BIGINT"]))
        sign = draw(st.sampled_from(["", " UNSIGNED", " UNSIGNED ZEROFILL"]))
        parts = [base + sign]
        default = draw(st.none() | st.integers(0, 100).map(str))
    elif kind == "decimal":
        precision = draw(st.integers(1, 30))
        scale = draw(st.integers(0, min(precision, 10)))
        parts = [f"DECIMAL({precision}, {scale})"]
        default = draw(st.none() | st.just("0"))
    elif kind == "string":
        parts = [
            draw(st.sampled_from(["VARCHAR", "CHAR", "VARBINARY"]))
            + f"({draw(st.integers(1, 60))})"
        ]
        if not parts[0].startswith("VARBINARY"):
            parts += draw(st.sampled_from([[], ["CHARACTER SET latin1"], ["COLLATE utf8mb4_bin"]]))
        text = draw(st.none() | _TEXT)
        size = int(parts[0].split("(")[1][:-1])
        binary = parts[0].startswith("VARBINARY")
        default = None
        if text is not None and len(text.encode() if binary else text) <= size:
            default = _literal(text)
    elif kind == "text":
        parts = [draw(st.sampled_from(["TEXT", "MEDIUMTEXT", "BLOB"]))]
        default = None
    elif kind == "time":
        parts = [draw(st.sampled_from(["DATE", "DATETIME", "DATETIME(3)", "TIMESTAMP", "TIME"]))]
        default = None
        if parts[0].startswith(("DATETIME", "TIMESTAMP")):
            default = draw(
                st.none() | st.just("CURRENT_TIMESTAMP" + ("(3)" if "(3)" in parts[0] else ""))
            )
    elif kind == "enum":
        parts = ["ENUM('a', 'b''c', 'd\\\\e')"]
        default = draw(st.none() | st.just("'a'"))
    else:
        parts = ["JSON"]
        default = None
    if draw(st.booleans()):
        parts.append("NOT NULL")
    if default is not None:
        parts.append(f"DEFAULT {default}")
    if (default is not None or "NOT NULL" not in parts) and draw(st.booleans()):
        parts.append("INVISIBLE")  # an invisible column must have a default
    if draw(st.booleans()):
        parts.append(f"COMMENT {_literal(draw(_TEXT))}")
    return f"`{name.replace('`', '``')}` " + " ".join(parts)


@st.composite
def tables(draw: st.DrawFn) -> str:
    names = draw(st.lists(_NAMES, min_size=1, max_size=5, unique_by=str.lower))
    columns = [draw(column_definitions(n)) for n in names]
    elements = ["`pk` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY", *columns]
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["VIRTUAL", "STORED"]))
        elements += ["`base` INT", f"`derived` BIGINT AS (`base` * 2) {kind}"]
    indexable = [
        n
        for n, c in zip(names, columns, strict=True)
        if "TEXT" not in c and "BLOB" not in c and "JSON" not in c
    ]
    for i, subset in enumerate(
        draw(
            st.lists(
                st.lists(st.sampled_from(indexable), min_size=1, max_size=2, unique=True),
                max_size=2,
            )
        )
        if indexable
        else []
    ):
        unique = "UNIQUE " if draw(st.booleans()) else ""
        order = " DESC" if draw(st.booleans()) else ""
        parts = ", ".join(f"`{c.replace('`', '``')}`{order}" for c in subset)
        elements.append(f"{unique}KEY `k{i}` ({parts})")
    if draw(st.booleans()):
        first = names[0].replace("`", "``")
        elements.append(f"CONSTRAINT `some check` CHECK (`{first}` IS NULL OR `{first}` <> '')")
    engine = draw(st.sampled_from(["InnoDB", "MyISAM", "Aria"]))
    comment = f" COMMENT={_literal(draw(_TEXT))}" if draw(st.booleans()) else ""
    body = ",\n    ".join(elements)
    return f"CREATE TABLE `generated` (\n    {body}\n) ENGINE={engine}{comment};"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ddl=tables())
def test_generated_tables_survive_the_round_trip(mysql_server, ddl):
    with fresh_database(mysql_server) as first, fresh_database(mysql_server) as second:
        load(first, ddl)
        original = model_of(first)
        assert original.warnings == ()
        script = render(original)
        load(second, script)
        assert model_of(second) == original
        assert server_printout(second) == server_printout(first)
