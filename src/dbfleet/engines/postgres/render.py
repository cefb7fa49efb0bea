"""Render a PostgreSQL schema model as DDL: deterministic, in dependency order, readable."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dbfleet.engines.postgres.dialect import DIALECT
from dbfleet.schema.model import (
    Column,
    Model,
    Routine,
    Sequence,
    Table,
    UserType,
    View,
    attr,
)

q = DIALECT.quote_ident
literal = DIALECT.quote_literal


def qualified(schema: str, name: str) -> str:
    return f"{q(schema)}.{q(name)}"


# --- objects ------------------------------------------------------------------------------------


def column_sql(column: Column) -> str:
    parts = [q(column.name), column.type]
    if column.collation:
        parts.append(f"COLLATE {column.collation}")
    if column.generated:
        parts.append(
            f"GENERATED ALWAYS AS ({column.generated}) {column.generated_kind or 'STORED'}"
        )
    if column.identity:
        options = attr(column.attrs, "identity_options")
        parts.append(
            f"GENERATED {column.identity} AS IDENTITY" + (f" ({options})" if options else "")
        )
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if not column.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


def _inline(table: Table) -> list[str]:
    """Constraints written inside CREATE TABLE: all but foreign keys and NOT VALID ones."""
    if attr(table.attrs, "partition_of"):
        return []
    return [
        f"CONSTRAINT {q(c.name)} {c.definition}"
        for c in table.constraints
        if c.kind != "foreign key" and not attr(c.attrs, "not_valid")
    ]


def _deferred_constraints(table: Table) -> list[str]:
    """Constraints added after every table exists (foreign keys, NOT VALID, on partitions)."""
    name = qualified(table.schema, table.name)
    is_partition = bool(attr(table.attrs, "partition_of"))
    return [
        f"ALTER TABLE {name} ADD CONSTRAINT {q(c.name)} {c.definition};"
        for c in table.constraints
        if c.kind == "foreign key" or attr(c.attrs, "not_valid") or is_partition
    ]


def table_sql(table: Table) -> str:
    name = qualified(table.schema, table.name)
    unlogged = "UNLOGGED " if attr(table.attrs, "unlogged") else ""
    parent = attr(table.attrs, "partition_of")
    if parent:
        schema, _, parent_name = parent.partition(".")
        head = (
            f"CREATE {unlogged}TABLE {name} PARTITION OF {qualified(schema, parent_name)}\n"
            f"    {attr(table.attrs, 'partition_bound')}"
        )
    else:
        body = [column_sql(c) for c in table.columns if not attr(c.attrs, "inherited")]
        body += _inline(table)
        inner = ",\n".join(f"    {line}" for line in body)
        head = (
            f"CREATE {unlogged}TABLE {name} (\n{inner}\n)"
            if body
            else f"CREATE {unlogged}TABLE {name} ()"
        )
        inherits = attr(table.attrs, "inherits")
        if inherits:
            head += f"\nINHERITS ({', '.join(inherits)})"
    if attr(table.attrs, "partition_by"):
        head += f"\nPARTITION BY {attr(table.attrs, 'partition_by')}"
    options = attr(table.attrs, "options")
    if options:
        head += f"\nWITH ({', '.join(options)})"
    return head + ";"


def sequence_sql(seq: Sequence) -> str:
    parts = [
        f"CREATE SEQUENCE {qualified(seq.schema, seq.name)} AS {seq.type}",
        f"START WITH {seq.start} INCREMENT BY {seq.increment}",
        f"MINVALUE {seq.minimum} MAXVALUE {seq.maximum}",
        f"CACHE {seq.cache}",
        "CYCLE" if seq.cycle else "NO CYCLE",
    ]
    return "\n    ".join(parts) + ";"


def view_sql(view: View) -> str:
    kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
    options = attr(view.attrs, "options")
    with_ = f" WITH ({', '.join(options)})" if options else ""
    return f"CREATE {kind} {qualified(view.schema, view.name)}{with_} AS\n{view.definition};"


def comment_sql(target: str, comment: str | None) -> list[str]:
    """COMMENT ON `target` (e.g. "TABLE s.t", "COLUMN s.t.c"), when there is a comment."""
    return [f"COMMENT ON {target} IS {literal(comment)};"] if comment is not None else []


def table_extras(table: Table) -> list[str]:
    """Indexes, triggers, row security, policies and comments of one table."""
    name = qualified(table.schema, table.name)
    out = [index.definition + ";" for index in table.indexes]
    out += [t.definition + ";" for t in table.triggers]
    out += [
        f"ALTER TABLE {name} DISABLE TRIGGER {q(t.name)};"
        for t in table.triggers
        if attr(t.attrs, "disabled")
    ]
    if attr(table.attrs, "row_security"):
        out.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;")
    if attr(table.attrs, "force_row_security"):
        out.append(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")
    out += [p.definition + ";" for p in table.policies]
    out += comment_sql(f"TABLE {name}", table.comment)
    for column in table.columns:
        out += comment_sql(f"COLUMN {name}.{q(column.name)}", column.comment)
    for c in table.constraints:
        out += comment_sql(f"CONSTRAINT {q(c.name)} ON {name}", c.comment)
    for index in table.indexes:
        out += comment_sql(f"INDEX {qualified(table.schema, index.name)}", index.comment)
    for t in table.triggers:
        out += comment_sql(f"TRIGGER {q(t.name)} ON {name}", t.comment)
    for p in table.policies:
        out += comment_sql(f"POLICY {q(p.name)} ON {name}", p.comment)
    return out


def view_extras(view: View) -> list[str]:
    name = qualified(view.schema, view.name)
    kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
    out = [index.definition + ";" for index in view.indexes]
    out += [t.definition + ";" for t in view.triggers]
    out += comment_sql(f"{kind} {name}", view.comment)
    for column, text in view.column_comments:
        out += comment_sql(f"COLUMN {name}.{q(column)}", text)
    for index in view.indexes:
        out += comment_sql(f"INDEX {qualified(view.schema, index.name)}", index.comment)
    return out


def routine_target(routine: Routine) -> str:
    kind = "PROCEDURE" if routine.kind == "procedure" else "FUNCTION"
    return f"{kind} {qualified(routine.schema, routine.name)}({routine.signature})"


def type_target(user_type: UserType) -> str:
    kind = "DOMAIN" if user_type.kind == "domain" else "TYPE"
    return f"{kind} {qualified(user_type.schema, user_type.name)}"


# --- ordering -----------------------------------------------------------------------------------


def _tables_in_order(tables: Iterable[Table]) -> list[Table]:
    """Parents before their partitions and inheritance children; otherwise by name."""
    by_name = {f"{t.schema}.{t.name}": t for t in tables}
    done: dict[str, Table] = {}

    def visit(key: str, trail: tuple[str, ...] = ()) -> None:
        if key in done or key in trail or key not in by_name:
            return
        table = by_name[key]
        parents = [attr(table.attrs, "partition_of")] + [
            _unquote(p) for p in attr(table.attrs, "inherits", ())
        ]
        for parent in parents:
            if parent:
                visit(parent, (*trail, key))
        done[key] = table

    for key in sorted(by_name):
        visit(key)
    return list(done.values())


def _views_in_order(views: Iterable[View]) -> list[View]:
    by_name = {f"{v.schema}.{v.name}": v for v in views}
    done: dict[str, View] = {}

    def visit(key: str, trail: tuple[str, ...] = ()) -> None:
        if key in done or key in trail or key not in by_name:
            return
        for dependency in attr(by_name[key].attrs, "depends_on", ()):
            visit(dependency, (*trail, key))
        done[key] = by_name[key]

    for key in sorted(by_name):
        visit(key)
    return list(done.values())


def _unquote(qualified_name: str) -> str:
    return ".".join(
        part.strip('"').replace('""', '"')
        for part in re.findall(r'"(?:[^"]|"")*"|[^.]+', qualified_name)
    )


def _needs_tables(routine: Routine, tables: Iterable[Table]) -> bool:
    """A routine whose header names a table's row type, or whose body is parsed at creation."""
    header = re.split(r"\n\s*AS |\bBEGIN ATOMIC\b", routine.definition, maxsplit=1)[0]
    if "BEGIN ATOMIC" in routine.definition:
        return True
    names = {t.name for t in tables}
    return any(re.search(rf"\b{re.escape(n)}\b", header.split("(", 1)[-1]) for n in names)


# --- the whole model ----------------------------------------------------------------------------


def render(model: Model) -> str:
    """The model as one script that creates it in an empty database."""
    sections: list[tuple[str, list[str]]] = []

    def section(title: str, statements: list[str]) -> None:
        if statements:
            sections.append((title, statements))

    section("Settings", ["SET check_function_bodies = false;"])
    section(
        "Schemas",
        [
            s
            for schema in model.schemas
            for s in [
                f"CREATE SCHEMA IF NOT EXISTS {q(schema.name)};",
                *comment_sql(f"SCHEMA {q(schema.name)}", schema.comment),
            ]
        ],
    )
    section(
        "Extensions",
        [
            f"CREATE EXTENSION IF NOT EXISTS {q(e.name)} WITH SCHEMA {q(e.schema)} "
            f"VERSION {literal(e.version)};"
            for e in model.extensions
        ],
    )
    type_order = {"enum": 0, "range": 1, "domain": 2, "composite": 3}
    section(
        "Types",
        [
            s
            for t in sorted(model.types, key=lambda t: (type_order[t.kind], t.schema, t.name))
            for s in [t.definition + ";", *comment_sql(type_target(t), t.comment)]
        ],
    )
    section(
        "Sequences",
        [
            s
            for seq in model.sequences
            for s in [
                sequence_sql(seq),
                *comment_sql(f"SEQUENCE {qualified(seq.schema, seq.name)}", seq.comment),
            ]
        ],
    )
    early = [r for r in model.routines if not _needs_tables(r, model.tables)]
    late = [r for r in model.routines if _needs_tables(r, model.tables)]
    section("Functions and procedures", _routines(early))
    tables = _tables_in_order(model.tables)
    section("Tables", [table_sql(t) for t in tables])
    section("Constraints", [s for t in tables for s in _deferred_constraints(t)])
    section(
        "Sequence ownership",
        [_owned_by(seq) for seq in model.sequences if seq.owned_by],
    )
    section(
        "Functions and procedures that use tables",
        _routines([r for r in late if "BEGIN ATOMIC" not in r.definition]),
    )
    views = _views_in_order(model.views)
    section("Views", [view_sql(v) for v in views])
    section(
        "SQL-standard functions", _routines([r for r in late if "BEGIN ATOMIC" in r.definition])
    )
    section(
        "Indexes, triggers, row security, comments",
        [s for t in tables for s in table_extras(t)] + [s for v in views for s in view_extras(v)],
    )
    section("Privileges", [g.statement + ";" for g in model.grants])
    section("Owners", [o.statement + ";" for o in model.owners])
    out = ["-- dbfleet schema (PostgreSQL)"]
    for title, statements in sections:
        out += ["", f"-- {title}", *statements]
    return "\n".join(out) + "\n"


def _owned_by(seq: Sequence) -> str:
    assert seq.owned_by is not None
    table, column = seq.owned_by
    return f"ALTER SEQUENCE {qualified(seq.schema, seq.name)} OWNED BY {table}.{q(column)};"


def _routines(routines: Iterable[Routine]) -> list[str]:
    out = []
    for r in routines:
        out.append(r.definition.rstrip().rstrip(";") + ";")
        out += comment_sql(routine_target(r), r.comment)
    return out


def render_files(model: Model) -> dict[str, str]:
    """One file per object (tables carry their indexes, constraints, triggers and policies)."""
    from dbfleet.schema.layout import object_path, schema_path

    files: dict[str, list[str]] = {}

    def add(path: str, *statements: str) -> None:
        files.setdefault(path, []).extend(statements)

    for schema in model.schemas:
        add(
            schema_path(schema.name),
            f"CREATE SCHEMA IF NOT EXISTS {q(schema.name)};",
            *comment_sql(f"SCHEMA {q(schema.name)}", schema.comment),
        )
    for e in model.extensions:
        add(
            "extensions.sql",
            f"CREATE EXTENSION IF NOT EXISTS {q(e.name)} WITH SCHEMA "
            f"{q(e.schema)} VERSION {literal(e.version)};",
        )
    for t in model.types:
        add(
            object_path(t.schema, "types", t.name),
            t.definition + ";",
            *comment_sql(type_target(t), t.comment),
        )
    for seq in model.sequences:
        add(
            object_path(seq.schema, "sequences", seq.name),
            sequence_sql(seq),
            *comment_sql(f"SEQUENCE {qualified(seq.schema, seq.name)}", seq.comment),
        )
    for r in model.routines:
        folder = "procedures" if r.kind == "procedure" else "functions"
        add(object_path(r.schema, folder, r.name), *_routines([r]))
    for table in model.tables:
        owned = [
            _owned_by(s)
            for s in model.sequences
            if s.owned_by and _unquote(s.owned_by[0]) == f"{table.schema}.{table.name}"
        ]
        add(
            object_path(table.schema, "tables", table.name),
            table_sql(table),
            *_deferred_constraints(table),
            *owned,
            *table_extras(table),
        )
    for view in model.views:
        add(object_path(view.schema, "views", view.name), view_sql(view), *view_extras(view))
    return {path: "\n".join(statements) + "\n" for path, statements in sorted(files.items())}
