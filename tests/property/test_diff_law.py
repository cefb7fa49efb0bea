"""Property: for random schemas A and a random mutation B of A, on real databases of each engine,
applying diff(A, B) to A gives B, applying diff(B, A) to B gives A, and diff(A, A) is empty.

Examples per engine: DBFLEET_DIFF_EXAMPLES (default 200 on CI, 25 elsewhere).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lawcheck import check_law, reset_database

EXAMPLES = int(
    os.environ.get(
        "DBFLEET_DIFF_EXAMPLES", "200" if os.environ.get("CI", "").lower() == "true" else "25"
    )
)

# Column types per engine, by a neutral name; "wider" pairs are safe type changes.
TYPES = {
    "postgresql": {
        "int": "integer",
        "big": "bigint",
        "text": "text",
        "v20": "varchar(20)",
        "v40": "varchar(40)",
        "num": "numeric(10,2)",
        "num2": "numeric(14,2)",
        "date": "date",
        "bool": "boolean",
    },
    "sqlite": {
        "int": "INTEGER",
        "big": "BIGINT",
        "text": "TEXT",
        "v20": "VARCHAR(20)",
        "v40": "VARCHAR(40)",
        "num": "NUMERIC(10,2)",
        "num2": "NUMERIC(14,2)",
        "date": "DATE",
        "bool": "BOOLEAN",
    },
    "mysql": {
        "int": "int",
        "big": "bigint",
        "text": "text",
        "v20": "varchar(20)",
        "v40": "varchar(40)",
        "num": "decimal(10,2)",
        "num2": "decimal(14,2)",
        "date": "date",
        "bool": "tinyint(1)",
    },
}
WIDER = {"int": "big", "v20": "v40", "num": "num2", "text": "text"}
DEFAULTS = {
    "int": "0",
    "big": "1",
    "text": "'x'",
    "v20": "'a'",
    "v40": "'b'",
    "num": "0",
    "num2": "1.5",
    "date": None,
    "bool": None,
}


@dataclass(frozen=True)
class Col:
    name: str
    kind: str
    nullable: bool = True
    default: str | None = None


@dataclass(frozen=True)
class Tab:
    name: str
    columns: tuple[Col, ...]
    indexes: tuple[tuple[str, tuple[str, ...], bool], ...] = ()  # name, columns, unique
    checks: tuple[tuple[str, str], ...] = ()  # name, column (>= 0 check on numeric columns)
    fk: tuple[str, str] | None = None  # (column, referenced table) to its id


@dataclass(frozen=True)
class Schema:
    tables: tuple[Tab, ...]
    views: tuple[tuple[str, str, tuple[str, ...]], ...] = field(default=())  # name, table, cols


def render(schema: Schema, engine: str) -> str:
    types = TYPES[engine]
    out = []
    for t in schema.tables:
        parts = ["id bigint PRIMARY KEY" if engine != "sqlite" else "id INTEGER PRIMARY KEY"]
        for c in t.columns:
            text = f"{c.name} {types[c.kind]}"
            if c.default is not None:
                text += f" DEFAULT {c.default}"
            if not c.nullable:
                text += " NOT NULL"
            parts.append(text)
        for name, column in t.checks:
            parts.append(f"CONSTRAINT {name} CHECK ({column} >= 0)")
        if t.fk:
            column, target = t.fk
            parts.append(
                f"CONSTRAINT {t.name}_{column}_fk FOREIGN KEY ({column}) REFERENCES {target} (id)"
            )
        out.append(f"CREATE TABLE {t.name} (\n  " + ",\n  ".join(parts) + "\n);")
        for name, columns, unique in t.indexes:
            kind = "UNIQUE INDEX" if unique else "INDEX"
            out.append(f"CREATE {kind} {name} ON {t.name} ({', '.join(columns)});")
    for name, table, columns in schema.views:
        out.append(f"CREATE VIEW {name} AS SELECT id, {', '.join(columns)} FROM {table};")
    return "\n".join(out) + "\n"


NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta", "omega", "sigma"])
KINDS = st.sampled_from(sorted(TYPES["sqlite"]))


@st.composite
def columns(draw: st.DrawFn) -> tuple[Col, ...]:
    names = draw(
        st.lists(
            st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=1, max_size=4, unique=True
        )
    )
    out = []
    for name in names:
        kind = draw(KINDS)
        default = DEFAULTS[kind] if draw(st.booleans()) else None
        out.append(
            Col(name, kind, nullable=draw(st.booleans()) or default is None, default=default)
        )
    return tuple(out)


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    table_names = draw(
        st.lists(st.sampled_from(["t1", "t2", "t3", "t4"]), min_size=1, max_size=3, unique=True)
    )
    tables = []
    for i, name in enumerate(table_names):
        cols = draw(columns())
        indexes = ()
        if draw(st.booleans()):
            picked = tuple(c.name for c in cols if c.kind not in ("text",))[:2]
            if picked:
                indexes = ((f"{name}_ix", picked, draw(st.booleans())),)
        checks = tuple(
            (f"{name}_{c.name}_ck", c.name)
            for c in cols
            if c.kind in ("num", "int") and draw(st.booleans())
        )
        fk = None
        if i and draw(st.booleans()):
            fk_col = Col("ref_id", "big")
            cols = (*cols, fk_col)
            fk = ("ref_id", table_names[draw(st.integers(0, i - 1))])
        tables.append(Tab(name, cols, indexes, checks, fk))
    views = ()
    if draw(st.booleans()):
        t = tables[0]
        views = (("v_" + t.name, t.name, tuple(c.name for c in t.columns[:2])),)
    return Schema(tuple(tables), views)


@st.composite
def mutations(draw: st.DrawFn, base: Schema) -> Schema:
    """B: A with a few random changes, kept valid (no dangling references)."""
    schema = base
    for _ in range(draw(st.integers(1, 4))):
        tables = list(schema.tables)
        i = draw(st.integers(0, len(tables) - 1))
        t = tables[i]
        referenced = {x.fk[1] for x in tables if x.fk} | {v[1] for v in schema.views}
        used = (
            {c for v in schema.views if v[1] == t.name for c in v[2]}
            | {c for _, cols, _ in t.indexes for c in cols}
            | {c for _, c in t.checks}
            | ({t.fk[0]} if t.fk else set())
        )
        action = draw(
            st.sampled_from(
                [
                    "add_column",
                    "drop_column",
                    "widen",
                    "nullable",
                    "default",
                    "index",
                    "check",
                    "add_table",
                    "drop_table",
                    "view",
                ]
            )
        )
        if action == "add_column":
            name = draw(st.sampled_from(["g", "h", "k"]))
            if all(c.name != name for c in t.columns):
                kind = draw(KINDS)
                t = replace(
                    t,
                    columns=(
                        *t.columns,
                        Col(name, kind, True, DEFAULTS[kind] if draw(st.booleans()) else None),
                    ),
                )
        elif action == "drop_column":
            free = [c for c in t.columns if c.name not in used]
            if len(t.columns) > 1 and free:
                gone = draw(st.sampled_from(free))
                t = replace(t, columns=tuple(c for c in t.columns if c != gone))
        elif action == "widen":
            cands = [
                c for c in t.columns if c.kind in WIDER and c.name not in {x for _, x in t.checks}
            ]
            if cands:
                c = draw(st.sampled_from(cands))
                new = replace(
                    c, kind=WIDER[c.kind], default=DEFAULTS[WIDER[c.kind]] if c.default else None
                )
                t = replace(t, columns=tuple(new if x == c else x for x in t.columns))
        elif action == "nullable":
            c = draw(st.sampled_from(list(t.columns)))
            if c.default is not None or not c.nullable:
                new = replace(c, nullable=not c.nullable)
                t = replace(t, columns=tuple(new if x == c else x for x in t.columns))
        elif action == "default":
            c = draw(st.sampled_from(list(t.columns)))
            if DEFAULTS[c.kind] is not None and c.nullable:
                new = replace(c, default=None if c.default else DEFAULTS[c.kind])
                t = replace(t, columns=tuple(new if x == c else x for x in t.columns))
        elif action == "index":
            if t.indexes:
                t = replace(t, indexes=())
            else:
                picked = tuple(c.name for c in t.columns if c.kind != "text")[:1]
                if picked:
                    t = replace(t, indexes=((f"{t.name}_ix2", picked, False),))
        elif action == "check":
            if t.checks:
                t = replace(t, checks=t.checks[1:])
            else:
                nums = [c.name for c in t.columns if c.kind in ("num", "int")]
                if nums:
                    t = replace(t, checks=((f"{t.name}_new_ck", nums[0]),))
        elif action == "add_table":
            names = {x.name for x in tables}
            free_names = [n for n in ("t5", "t6") if n not in names]
            if free_names:
                tables.append(Tab(free_names[0], draw(columns())))
        elif action == "drop_table":
            if len(tables) > 1 and t.name not in referenced:
                tables.pop(i)
                schema = replace(schema, tables=tuple(tables))
                continue
        elif action == "view":
            if schema.views:
                schema = replace(schema, views=())
                continue
            first = tables[0]
            schema = replace(schema, views=(("v_new", first.name, (first.columns[0].name,)),))
            continue
        tables[i] = t
        schema = replace(schema, tables=tuple(tables))
    return schema


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Schema, Schema]:
    a = draw(schemas())
    return a, draw(mutations(a))


def _law(engine: str, new_database, pair: tuple[Schema, Schema]) -> None:
    """One pair of databases for all examples of a test, emptied before each one."""
    a, b = pair
    key = id(new_database)  # one pair per test (the factory drops them when the test ends)
    if key not in _DATABASES:
        _DATABASES.clear()
        _DATABASES[key] = (new_database(engine), new_database(engine))
    urls = _DATABASES[key]
    for url in urls:
        reset_database(url)
    check_law(new_database, engine, render(a, engine), render(b, engine), databases=urls)


_DATABASES: dict[int, tuple[str, str]] = {}


_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(pair=pairs())
def test_law_on_sqlite(new_database, pair):
    _law("sqlite", new_database, pair)


@pytest.mark.postgres
@_SETTINGS
@given(pair=pairs())
def test_law_on_postgresql(new_database, pair):
    _law("postgresql", new_database, pair)


@pytest.mark.mysql
@_SETTINGS
@given(pair=pairs())
def test_law_on_mariadb(new_database, pair):
    _law("mysql", new_database, pair)
