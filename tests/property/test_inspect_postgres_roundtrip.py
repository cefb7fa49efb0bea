"""Hypothesis-generated PostgreSQL schemas obey the round-trip law of `dbfleet inspect`.

The law: inspect a database, render the model as DDL, load that into an empty database, inspect
again: the two models are equal and render to the same bytes. Schemas are generated as data
(tables, columns, keys, checks, indexes, views, comments), written out as DDL and loaded into a
real server. The two databases are made once per test and reused: each example drops and
recreates the generated schemas instead of creating databases, which keeps 40 examples fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from dbfleet.dburl import parse_url
from dbfleet.engines import connect, inspect, render
from dbfleet.engines.postgres.dialect import DIALECT
from dbfleet.engines.postgres.split import split
from dbfleet.schema.model import Model

pytestmark = pytest.mark.postgres

q = DIALECT.quote_ident
literal = DIALECT.quote_literal

# Generated objects live only in these schemas; dropping them resets a database.
SCHEMAS = ("gen", "Gen Two")

# Names that need no quoting, names that do (capitals, spaces, keywords), and short ones.
NAMES = (
    *("id", "name", "amount", "total", "created_at", "status", "note", "x", "select", "order"),
    *("user", "group", "from", "Value", "Created At", "MixedCase", "a b"),
)
TABLE_NAMES = ("accounts", "invoices", "order", "Line Items", "user", "t", "Events", "select")
COMMENTS = st.sampled_from(
    ("plain", "it's quoted", "two\nlines", "Ünïcödé ✓", "back\\slash", "per cent % and $$")
)


# --- the generated schema, as data -----------------------------------------------------------


@dataclass(frozen=True)
class ColumnType:
    sql: str  # as written in DDL
    kind: str  # what defaults, checks and indexes fit: int, numeric, text, ...


@dataclass(frozen=True)
class GenColumn:
    name: str
    type: ColumnType
    not_null: bool = False
    default: str | None = None
    identity: str | None = None  # "ALWAYS AS IDENTITY (...)" / "BY DEFAULT AS IDENTITY"
    generated: str | None = None  # stored generation expression
    collate: str | None = None
    comment: str | None = None

    def sql(self) -> str:
        parts = [q(self.name), self.type.sql]
        if self.collate:
            parts.append(f"COLLATE {self.collate}")
        if self.generated:
            parts.append(f"GENERATED ALWAYS AS ({self.generated}) STORED")
        if self.identity:
            parts.append(f"GENERATED {self.identity}")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.not_null:
            parts.append("NOT NULL")
        return " ".join(parts)


@dataclass(frozen=True)
class GenTable:
    schema: str
    name: str
    columns: tuple[GenColumn, ...]
    primary_key: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()  # inline: "CONSTRAINT c UNIQUE (...)", "CHECK (...)"
    later: tuple[str, ...] = ()  # ALTER TABLE / CREATE INDEX / COMMENT after every table exists
    comment: str | None = None

    @property
    def qualified(self) -> str:
        return f"{q(self.schema)}.{q(self.name)}"


@dataclass(frozen=True)
class GenSchema:
    types: tuple[str, ...]
    tables: tuple[GenTable, ...]
    views: tuple[str, ...]
    history: tuple[str, ...] = ()  # later ALTER TABLEs: what a live database has been through

    def sql(self) -> str:
        out = [f"CREATE SCHEMA {q(s)};" for s in SCHEMAS]
        out += [t + ";" for t in self.types]
        for table in self.tables:
            body = [c.sql() for c in table.columns]
            if table.primary_key:
                body.append(f"PRIMARY KEY ({', '.join(q(c) for c in table.primary_key)})")
            body += table.constraints
            inner = ",\n    ".join(body)
            out.append(f"CREATE TABLE {table.qualified} (\n    {inner}\n);")
            if table.comment is not None:
                out.append(f"COMMENT ON TABLE {table.qualified} IS {literal(table.comment)};")
            for c in table.columns:
                if c.comment is not None:
                    out.append(
                        f"COMMENT ON COLUMN {table.qualified}.{q(c.name)} IS {literal(c.comment)};"
                    )
        out += [s + ";" for t in self.tables for s in t.later]
        out += [v + ";" for v in self.views]
        out += [h + ";" for h in self.history]
        return "\n".join(out) + "\n"


# --- strategies ------------------------------------------------------------------------------

ENUM = f"{q('gen')}.{q('Mood')}"
# What a column can be; "kind" decides which defaults, checks and index methods fit it.
TYPE_CHOICES = (
    *("int", "numeric", "float", "text", "bool", "date", "ts", "jsonb", "uuid", "array"),
    *("enum", "enum_array", "interval", "inet", "bytea"),
)
SIMPLE_TYPES = {"bool": "boolean", "date": "date", "jsonb": "jsonb", "uuid": "uuid"}
SIMPLE_TYPES |= {"interval": "interval", "inet": "inet", "bytea": "bytea"}
ENUM_LABELS = ("sad", "ok", "it's fine", "Very Happy")


@st.composite
def column_types(draw: st.DrawFn) -> ColumnType:
    choice = draw(st.sampled_from(TYPE_CHOICES))
    if choice == "int":
        return ColumnType(
            draw(st.sampled_from(("smallint", "integer", "bigint", "serial", "bigserial"))), "int"
        )
    if choice == "numeric":
        if draw(st.booleans()):
            return ColumnType("numeric", "numeric")
        precision = draw(st.integers(3, 20))
        scale = draw(st.integers(0, precision - 2))
        return ColumnType(f"numeric({precision},{scale})", "numeric")
    if choice == "float":
        return ColumnType(draw(st.sampled_from(("double precision", "real"))), "float")
    if choice == "text":
        length = draw(st.integers(8, 255))
        return ColumnType(
            draw(st.sampled_from(("text", f"varchar({length})", f"character({length})"))), "text"
        )
    if choice == "ts":
        return ColumnType(
            draw(st.sampled_from(("timestamptz", "timestamp", "timestamp(3) with time zone"))),
            "ts",
        )
    if choice == "array":
        element = draw(st.sampled_from(("integer", "text", "varchar(10)", "numeric(8,2)", "date")))
        return ColumnType(f"{element}[]", "array")
    if choice == "enum":
        return ColumnType(ENUM, "enum")
    if choice == "enum_array":
        return ColumnType(f"{ENUM}[]", "array")
    return ColumnType(SIMPLE_TYPES[choice], choice)


def defaults_for(kind: str, type_sql: str) -> st.SearchStrategy[str]:
    """Type-correct DEFAULT expressions, constants and function calls."""
    if kind == "int":
        return st.integers(-1000, 1000).map(str)
    if kind in ("numeric", "float"):
        # numeric(p, p-2) holds at most 2 digits before the point.
        return st.sampled_from(("0", "1.5", "-7"))
    if kind == "text":
        text = st.text(alphabet="ab 'xyzé%", min_size=0, max_size=8)
        return st.one_of(text.map(literal), st.just("current_user"))
    if kind == "bool":
        return st.sampled_from(("true", "false"))
    if kind == "date":
        return st.sampled_from(("CURRENT_DATE", "'2024-02-29'"))
    if kind == "ts":
        return st.sampled_from(("now()", "'2024-01-01 12:00:00+00'", "CURRENT_TIMESTAMP"))
    if kind == "jsonb":
        return st.sampled_from(("'{}'", """'{"k": [1, 2], "s": "it''s"}'""", "'[]'::jsonb"))
    if kind == "uuid":
        return st.just("gen_random_uuid()")
    if kind == "array":
        return st.just("'{}'")
    if kind == "enum":
        return st.sampled_from(ENUM_LABELS).map(literal)
    if kind == "interval":
        return st.sampled_from(("'1 day'", "'02:30:00'::interval"))
    if kind == "inet":
        return st.just("'127.0.0.1'")
    return st.just("'\\x00ff'::bytea")


def check_for(kind: str, column: str) -> str | None:
    c = q(column)
    return {
        "int": f"{c} > -100000",
        "numeric": f"{c} >= -1000",
        "float": f"{c} <> 'NaN'",
        "text": f"length({c}) <= 200",
        "date": f"{c} > '1900-01-01'",
        "ts": f"{c} > '2000-01-01'",
        "jsonb": f"jsonb_typeof({c}) IS NOT NULL",
        "array": f"cardinality({c}) < 100",
        "enum": f"{c} <> 'sad'",
    }.get(kind)


IDENTITY_OPTIONS = st.sampled_from(
    (
        "",
        " (START WITH 10 INCREMENT BY 5)",
        " (START WITH 100 INCREMENT BY -1 MINVALUE 1 MAXVALUE 100 CACHE 3 CYCLE)",
        " (MINVALUE 0 NO MAXVALUE CACHE 20)",
    )
)


@st.composite
def columns(draw: st.DrawFn) -> tuple[GenColumn, ...]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6, unique=True))
    out: list[GenColumn] = []
    for name in names:
        column_type = draw(column_types())
        not_null = draw(st.booleans())
        identity = None
        default = None
        if column_type.sql.endswith("serial"):
            pass  # its default is nextval() of the sequence it owns
        elif column_type.kind == "int" and draw(st.integers(0, 4)) == 0:
            kind = draw(st.sampled_from(("ALWAYS", "BY DEFAULT")))
            identity = f"{kind} AS IDENTITY{draw(IDENTITY_OPTIONS)}"
        elif draw(st.booleans()):
            default = draw(defaults_for(column_type.kind, column_type.sql))
        collate = None
        if column_type.kind == "text" and draw(st.integers(0, 3)) == 0:
            collate = '"C"'
        comment = draw(st.none() | COMMENTS)
        out.append(
            GenColumn(name, column_type, not_null, default, identity, None, collate, comment)
        )
    # A stored generated column computed from a plain one.
    sources = [c for c in out if c.type.kind in ("int", "numeric", "text") and not c.identity]
    if sources and draw(st.booleans()):
        source = draw(st.sampled_from(sources))
        expression, type_sql = {
            "int": (f"{q(source.name)} * 2", "bigint"),
            "numeric": (f"{q(source.name)} + 1", "numeric"),
            "text": (f"lower({q(source.name)})", "text"),
        }[source.type.kind]
        out.append(
            GenColumn(f"gen {len(out)}", ColumnType(type_sql, "generated"), generated=expression)
        )
    return tuple(out)


SERIAL_TYPES = {"serial": "integer", "bigserial": "bigint"}
KEYABLE = ("int", "numeric", "text", "bool", "date", "ts", "uuid", "enum", "interval", "inet")


@st.composite
def tables(draw: st.DrawFn) -> tuple[GenTable, ...]:
    names = draw(st.lists(st.sampled_from(TABLE_NAMES), min_size=1, max_size=5, unique=True))
    made: list[GenTable] = []
    for t_index, name in enumerate(names):
        schema = draw(st.sampled_from(SCHEMAS))
        cols = list(draw(columns()))
        qualified = f"{q(schema)}.{q(name)}"
        constraints: list[str] = []
        later: list[str] = []
        plain = [c for c in cols if not c.generated]
        keyable = [c for c in plain if c.type.kind in KEYABLE]

        primary_key: tuple[str, ...] = ()
        if keyable and draw(st.integers(0, 3)) > 0:
            key = draw(st.lists(st.sampled_from(keyable), min_size=1, max_size=2, unique=True))
            primary_key = tuple(c.name for c in key)

        # Foreign keys to earlier tables' (or this table's) primary keys, on columns of their own.
        targets = [t for t in made if t.primary_key]
        for f_index in range(draw(st.integers(0, 2))):
            if not targets and not primary_key:
                break
            self_ref = not targets or bool(primary_key and draw(st.integers(0, 3)) == 0)
            if self_ref:
                target_name, target_key, target_cols = qualified, primary_key, cols
            else:
                target = draw(st.sampled_from(targets))
                target_name, target_key, target_cols = (
                    target.qualified,
                    target.primary_key,
                    target.columns,
                )
            fk_cols = []
            for k, key_name in enumerate(target_key):
                key_col = next(c for c in target_cols if c.name == key_name)
                fk_type = SERIAL_TYPES.get(key_col.type.sql, key_col.type.sql)
                fk_cols.append(
                    GenColumn(f"ref{f_index}_{k}", ColumnType(fk_type, key_col.type.kind))
                )
            cols += fk_cols
            clause = (
                f"FOREIGN KEY ({', '.join(q(c.name) for c in fk_cols)}) REFERENCES {target_name} "
                f"({', '.join(q(c) for c in target_key)})"
            )
            if draw(st.booleans()):
                clause += " MATCH FULL"
            clause += draw(
                st.sampled_from(
                    (
                        "",
                        " ON DELETE CASCADE",
                        " ON DELETE SET NULL",
                        " ON UPDATE RESTRICT",
                        " ON DELETE SET DEFAULT ON UPDATE CASCADE",
                    )
                )
            )
            clause += draw(st.sampled_from(("", " DEFERRABLE", " DEFERRABLE INITIALLY DEFERRED")))
            named = f"CONSTRAINT {q(f'fk {t_index}_{f_index}')} {clause}"
            if draw(st.integers(0, 3)) == 0:
                later.append(f"ALTER TABLE {qualified} ADD {named} NOT VALID")
            else:
                later.append(f"ALTER TABLE {qualified} ADD {named}")

        # Unique constraints and checks.
        for u_index in range(draw(st.integers(0, 2))):
            if not keyable:
                break
            key = draw(st.lists(st.sampled_from(keyable), min_size=1, max_size=2, unique=True))
            nulls = draw(st.sampled_from(("", " NULLS NOT DISTINCT")))
            deferrable = draw(st.sampled_from(("", " DEFERRABLE INITIALLY DEFERRED")))
            name_part = f"CONSTRAINT {q(f'uq_{t_index}_{u_index}')} " if draw(st.booleans()) else ""
            constraints.append(
                f"{name_part}UNIQUE{nulls} ({', '.join(q(c.name) for c in key)}){deferrable}"
            )
        for c_index, column in enumerate(draw(st.lists(st.sampled_from(plain), max_size=2))):
            expression = check_for(column.type.kind, column.name)
            if expression is None:
                continue
            flavour = draw(st.sampled_from(("inline", "no inherit", "not valid")))
            check = f"CONSTRAINT {q(f'ck_{t_index}_{c_index}')} CHECK ({expression})"
            if flavour == "inline":
                constraints.append(check)
            elif flavour == "no inherit":
                constraints.append(f"{check} NO INHERIT")
            else:
                later.append(f"ALTER TABLE {qualified} ADD {check} NOT VALID")

        later += draw(indexes(schema, qualified, t_index, plain))
        later += draw(check_comments(qualified, constraints))
        comment = draw(st.none() | COMMENTS)
        made.append(
            GenTable(
                schema, name, tuple(cols), primary_key, tuple(constraints), tuple(later), comment
            )
        )
    return tuple(made)


@st.composite
def check_comments(draw: st.DrawFn, table: str, constraints: list[str]) -> list[str]:
    """Comments on the table's inline checks (named "ck_...", so no quoting or spaces)."""
    out = []
    for constraint in constraints:
        if constraint.startswith("CONSTRAINT ck_") and draw(st.booleans()):
            name = constraint.split(" ", 2)[1]
            out.append(f"COMMENT ON CONSTRAINT {name} ON {table} IS {literal(draw(COMMENTS))}")
    return out


@st.composite
def indexes(
    draw: st.DrawFn, schema: str, table: str, t_index: int, plain: list[GenColumn]
) -> list[str]:
    out = []
    for i_index in range(draw(st.integers(0, 3))):
        column = draw(st.sampled_from(plain))
        c = q(column.name)
        kind = column.type.kind
        method = "btree"
        unique = False
        keys = {column.name}  # columns in the key; INCLUDE takes others
        if kind in ("jsonb", "array"):
            method = "gin"
            parts = [c + (" jsonb_path_ops" if kind == "jsonb" and draw(st.booleans()) else "")]
        elif kind in ("date", "ts", "int") and draw(st.integers(0, 3)) == 0:
            method = "brin"
            parts = [c]
        elif kind in ("int", "text", "date") and draw(st.integers(0, 4)) == 0:
            method = "hash"
            parts = [c]
        else:
            parts = []
            if kind == "text" and draw(st.booleans()):
                parts.append(f"lower({c})")
            elif kind == "int" and draw(st.booleans()):
                parts.append(f"({c} + 1)")
            else:
                opclass = ""
                if column.type.sql == "text" and not column.collate and draw(st.booleans()):
                    opclass = " text_pattern_ops"
                parts.append(c + opclass)
            others = [o for o in plain if o.type.kind in KEYABLE and o.name != column.name]
            if others and draw(st.booleans()):
                second = draw(st.sampled_from(others)).name
                keys.add(second)
                parts.append(q(second))
            parts = [
                p + draw(st.sampled_from(("", " DESC", " DESC NULLS LAST", " NULLS FIRST", " ASC")))
                for p in parts
            ]
            unique = draw(st.integers(0, 3)) == 0
        include = ""
        if method == "btree":
            extra = [o for o in plain if o.name not in keys]
            if extra and draw(st.integers(0, 3)) == 0:
                include = f" INCLUDE ({q(draw(st.sampled_from(extra)).name)})"
        where = ""
        if draw(st.integers(0, 2)) == 0:
            where = f" WHERE {c} IS NOT NULL" if kind != "int" else f" WHERE {c} > 0"
        name = q(f"ix {t_index}_{i_index}") if draw(st.booleans()) else ""
        head = f"CREATE {'UNIQUE ' if unique else ''}INDEX {name}".rstrip()
        out.append(f"{head} ON {table} USING {method} ({', '.join(parts)}){include}{where}")
        if name and draw(st.booleans()):
            out.append(f"COMMENT ON INDEX {q(schema)}.{name} IS {literal(draw(COMMENTS))}")
    return out


@st.composite
def views(draw: st.DrawFn, made: tuple[GenTable, ...]) -> list[str]:
    out: list[str] = []
    previous: tuple[str, list[str]] | None = None  # a view to build the next one on
    for v_index in range(draw(st.integers(0, 3))):
        schema = draw(st.sampled_from(SCHEMAS))
        name = f"{q(schema)}.{q(f'v{v_index} view')}"
        if previous is not None and draw(st.booleans()):
            source, available = previous
        else:
            table = draw(st.sampled_from(made))
            source, available = table.qualified, [c.name for c in table.columns]
        picked = draw(st.lists(st.sampled_from(available), min_size=1, max_size=4, unique=True))
        select = f"SELECT {', '.join(q(c) for c in picked)} FROM {source}"
        options = draw(
            st.sampled_from(
                ("", " WITH (security_barrier = true)", " WITH (security_invoker = true)")
            )
        )
        where = f" WHERE {q(picked[0])} IS NOT NULL" if draw(st.booleans()) else ""
        check = " WITH LOCAL CHECK OPTION" if where and draw(st.booleans()) else ""
        out.append(f"CREATE VIEW {name}{options} AS {select}{where}{check}")
        if draw(st.booleans()):
            out.append(f"COMMENT ON VIEW {name} IS {literal(draw(COMMENTS))}")
        if draw(st.booleans()):
            out.append(f"COMMENT ON COLUMN {name}.{q(picked[-1])} IS {literal(draw(COMMENTS))}")
        previous = (name, picked)
    if draw(st.booleans()):
        table = draw(st.sampled_from(made))
        name = f"{q(table.schema)}.{q('counts mv')}"
        out.append(
            f"CREATE MATERIALIZED VIEW {name} AS SELECT count(*) AS n FROM {table.qualified}"
        )
        out.append(f"CREATE UNIQUE INDEX {q('counts mv key')} ON {name} (n)")
    return out


@st.composite
def history(draw: st.DrawFn, made: tuple[GenTable, ...]) -> list[str]:
    """Changes after the fact, which leave catalogs unlike a fresh CREATE (dropped attnums...)."""
    out = []
    # Per table: column name -> its type, or None for identity columns (no new default). Generated
    # columns are left alone: dropping the column they are computed from drops them too.
    names = {
        t.qualified: {c.name: None if c.identity else c.type for c in t.columns if not c.generated}
        for t in made
    }
    for step in range(draw(st.integers(0, 4))):
        table = draw(st.sampled_from(sorted(names)))
        columns = names[table]
        action = draw(
            st.sampled_from(("drop", "add", "rename", "default", "not null", "rename table"))
        )
        if action == "rename table":
            new_name = f"renamed table {step}"
            out.append(f"ALTER TABLE {table} RENAME TO {q(new_name)}")
            names[table.rsplit(".", 1)[0] + "." + q(new_name)] = names.pop(table)
            continue
        if action == "add" or not columns:
            column_type = draw(column_types())
            default = None
            if not column_type.sql.endswith("serial"):
                default = draw(st.none() | defaults_for(column_type.kind, column_type.sql))
            added = f"added {step}"
            out.append(
                f"ALTER TABLE {table} ADD COLUMN {q(added)} {column_type.sql}"
                + (f" DEFAULT {default}" if default is not None else "")
            )
            columns[added] = column_type
            continue
        column = draw(st.sampled_from(sorted(columns)))
        column_type = columns[column]
        if action == "drop":
            # CASCADE: keys, indexes, views and generated columns on it go too.
            out.append(f"ALTER TABLE {table} DROP COLUMN {q(column)} CASCADE")
            del columns[column]
        elif action == "rename":
            out.append(f"ALTER TABLE {table} RENAME COLUMN {q(column)} TO {q(f'renamed {step}')}")
            columns[f"renamed {step}"] = columns.pop(column)
        elif action == "default" and column_type is not None:
            default = draw(st.none() | defaults_for(column_type.kind, column_type.sql))
            change = "DROP DEFAULT" if default is None else f"SET DEFAULT {default}"
            out.append(f"ALTER TABLE {table} ALTER COLUMN {q(column)} {change}")
        else:
            out.append(f"ALTER TABLE {table} ALTER COLUMN {q(column)} SET NOT NULL")
    return out


@st.composite
def schemas(draw: st.DrawFn) -> GenSchema:
    labels = ", ".join(literal(label) for label in ENUM_LABELS)
    types = [f"CREATE TYPE {ENUM} AS ENUM ({labels})"]
    if draw(st.booleans()):
        types.append(f"COMMENT ON TYPE {ENUM} IS {literal(draw(COMMENTS))}")
    made = draw(tables())
    return GenSchema(tuple(types), made, tuple(draw(views(made))), tuple(draw(history(made))))


# --- databases -------------------------------------------------------------------------------


@pytest.fixture
def second_pg_url(postgres_server: str) -> Iterator[str]:
    from tests.conftest import _fresh_postgres

    yield from _fresh_postgres(postgres_server)


def reset(url: str) -> None:
    """Drop everything a previous example made (all of it lives in SCHEMAS)."""
    with connect(parse_url(url)) as conn:
        for schema in SCHEMAS:
            conn.execute(f"DROP SCHEMA IF EXISTS {q(schema)} CASCADE")


def load(url: str, sql: str) -> None:
    with connect(parse_url(url)) as conn:
        for statement in split(sql):
            conn.execute(statement.text)


def model_of(url: str) -> Model:
    with connect(parse_url(url)) as conn:
        return inspect(conn)


# --- the law ---------------------------------------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    database=None,  # no .hypothesis folder in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schema=schemas())
def test_generated_schemas_survive_inspect_render_load_inspect(pg_url, second_pg_url, schema):
    sql = schema.sql()
    note(sql)
    reset(pg_url)
    reset(second_pg_url)
    load(pg_url, sql)
    original = model_of(pg_url)
    assert original.warnings == ()
    assert len(original.tables) == len(schema.tables)  # the generator made what it meant to

    script = render(original)
    note(script)
    load(second_pg_url, script)
    copy = model_of(second_pg_url)

    assert copy == original
    assert render(copy) == script  # same schema, same bytes
