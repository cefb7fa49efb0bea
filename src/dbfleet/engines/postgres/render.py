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
        head = (
            f"CREATE {unlogged}TABLE {name} PARTITION OF {qualified(*parent)}\n"
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


def table_extras(table: Table, *, indexes: bool = True) -> list[str]:
    """Indexes, triggers, row security, policies and comments of one table."""
    name = qualified(table.schema, table.name)
    out = [index.definition + ";" for index in table.indexes] if indexes else []
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


def view_extras(view: View, *, indexes: bool = True) -> list[str]:
    name = qualified(view.schema, view.name)
    kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
    out = [index.definition + ";" for index in view.indexes] if indexes else []
    out += [t.definition + ";" for t in view.triggers]
    out += comment_sql(f"{kind} {name}", view.comment)
    for column, text in view.column_comments:
        out += comment_sql(f"COLUMN {name}.{q(column)}", text)
    for index in view.indexes:
        out += comment_sql(f"INDEX {qualified(view.schema, index.name)}", index.comment)
    for t in view.triggers:
        out += comment_sql(f"TRIGGER {q(t.name)} ON {name}", t.comment)
    return out


def routine_target(routine: Routine) -> str:
    kind = "PROCEDURE" if routine.kind == "procedure" else "FUNCTION"
    return f"{kind} {qualified(routine.schema, routine.name)}({routine.signature})"


def type_target(user_type: UserType) -> str:
    kind = "DOMAIN" if user_type.kind == "domain" else "TYPE"
    return f"{kind} {qualified(user_type.schema, user_type.name)}"


# --- ordering -----------------------------------------------------------------------------------


def _unquote(qualified_name: str) -> str:
    return ".".join(
        part.strip('"').replace('""', '"')
        for part in re.findall(r'"(?:[^"]|"")*"|[^.]+', qualified_name)
    )


def _parents(table: Table, tables: dict[str, Table]) -> list[Table]:
    names = []
    if attr(table.attrs, "partition_of"):
        names.append(".".join(attr(table.attrs, "partition_of")))
    names += [_unquote(p) for p in attr(table.attrs, "inherits", ())]
    return [tables[n] for n in names if n in tables]


def _created_with_parent(table: Table, parents: list[Table]) -> bool:
    """Whether PARTITION OF / INHERITS recreates this table (else: create it, then attach).

    PARTITION OF gives a partition its parent's columns in the parent's order; a partition
    whose columns are in another order (a standalone table attached with ATTACH PARTITION) is
    created standalone and attached afterwards, which reproduces exactly that. Inheritance
    children always use
    INHERITS, which also merges columns they redeclare (column order can differ from the
    original when a parent gained columns after its children, as with pg_dump).
    """
    if not attr(table.attrs, "partition_of"):
        return True
    return [c.name for c in table.columns] == [c.name for c in parents[0].columns]


def _column_adjustments(table: Table, parents: list[Table]) -> list[str]:
    """Defaults and NOT NULLs of inherited columns that differ from what the parent gives."""
    name = qualified(table.schema, table.name)
    out = []
    for column in table.columns:
        if not attr(column.attrs, "inherited"):
            continue
        origin = next((c for p in parents for c in p.columns if c.name == column.name), None)
        if origin is None:
            continue
        target = f"ALTER TABLE {name} ALTER COLUMN {q(column.name)}"
        if column.default != origin.default and not column.identity and not column.generated:
            out.append(
                f"{target} SET DEFAULT {column.default};"
                if column.default is not None
                else f"{target} DROP DEFAULT;"
            )
        if not column.nullable and origin.nullable:
            out.append(f"{target} SET NOT NULL;")
    return out


def _standalone(table: Table) -> Table:
    """The table without its parents, for creating it standalone and attaching it later."""
    from dataclasses import replace

    columns = tuple(
        replace(c, attrs=tuple((k, v) for k, v in c.attrs if k != "inherited"))
        for c in table.columns
    )
    kept = tuple((k, v) for k, v in table.attrs if k != "partition_of")
    return replace(table, columns=columns, attrs=kept)


def _attachments(table: Table) -> list[str]:
    name = qualified(table.schema, table.name)
    out = []
    parent = attr(table.attrs, "partition_of")
    if parent:
        out.append(
            f"ALTER TABLE {qualified(*parent)} ATTACH PARTITION {name} "
            f"{attr(table.attrs, 'partition_bound')};"
        )
    return out


def _table_statements(table: Table, tables: dict[str, Table]) -> tuple[str, list[str], list[str]]:
    """CREATE TABLE, then ATTACH/INHERIT statements, then inherited-column adjustments."""
    parents = _parents(table, tables)
    if parents and not _created_with_parent(table, parents):
        return table_sql(_standalone(table)), _attachments(table), []
    return table_sql(table), [], _column_adjustments(table, parents)


# --- the whole model ----------------------------------------------------------------------------

# Kinds in the order they are created when nothing else decides.
_RANK = {"type": 0, "sequence": 1, "routine": 2, "table": 3, "view": 4}


def _objects_in_order(model: Model) -> list[tuple[str, object]]:
    """Types, sequences, routines, tables and views, each after what it depends on."""
    from dbfleet.engines.postgres.inspect import relation_key, routine_key, type_key
    from dbfleet.schema.order import dependency_order

    by_name = {f"{t.schema}.{t.name}": t for t in model.tables}
    objects: dict[str, tuple[str, object]] = {}
    sort: dict[str, tuple[object, ...]] = {}
    needs: dict[str, set[str]] = {}

    def add(
        kind: str, key: str, obj: object, schema: str, name: str, deps: tuple[str, ...]
    ) -> None:
        objects[key] = (kind, obj)
        sort[key] = (_RANK[kind], schema, name, key)
        needs[key] = set(deps)

    for u in model.types:
        key = type_key(u.schema, u.name)
        add("type", key, u, u.schema, u.name, attr(u.attrs, "depends_on", ()))
    for s in model.sequences:
        key = relation_key(s.schema, s.name)
        add("sequence", key, s, s.schema, s.name, attr(s.attrs, "depends_on", ()))
    for r in model.routines:
        key = routine_key(r.schema, r.name, r.signature)
        add("routine", key, r, r.schema, r.name, attr(r.attrs, "depends_on", ()))
    for t in model.tables:
        key = relation_key(t.schema, t.name)
        parents = [relation_key(p.schema, p.name) for p in _parents(t, by_name)]
        deps = (*attr(t.attrs, "depends_on", ()), *parents)
        add("table", key, t, t.schema, t.name, deps)
    for v in model.views:
        key = relation_key(v.schema, v.name)
        add("view", key, v, v.schema, v.name, attr(v.attrs, "depends_on", ()))
    return [objects[key] for key in dependency_order(sort, needs)]


def render(model: Model) -> str:
    """The model as one script that creates it in an empty database.

    Objects (types, sequences, routines, tables, views) come in dependency order from
    pg_depend; then what hangs off them (indexes before the foreign keys that need them,
    constraints, triggers, row security, comments, privileges).
    """
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
    by_name = {f"{t.schema}.{t.name}": t for t in model.tables}
    objects: list[str] = []
    attach: list[str] = []
    adjust: list[str] = []
    tables: list[Table] = []
    views: list[View] = []
    for kind, obj in _objects_in_order(model):
        if kind == "type":
            assert isinstance(obj, UserType)
            objects += [obj.definition + ";", *comment_sql(type_target(obj), obj.comment)]
        elif kind == "sequence":
            assert isinstance(obj, Sequence)
            objects.append(sequence_sql(obj))
            objects += comment_sql(f"SEQUENCE {qualified(obj.schema, obj.name)}", obj.comment)
        elif kind == "routine":
            assert isinstance(obj, Routine)
            objects += _routines([obj])
        elif kind == "table":
            assert isinstance(obj, Table)
            create, attached, adjusted = _table_statements(obj, by_name)
            objects.append(create)
            attach += attached
            adjust += adjusted
            tables.append(obj)
        else:
            assert isinstance(obj, View)
            objects.append(view_sql(obj))
            views.append(obj)
    section("Types, sequences, functions, tables and views, in dependency order", objects)
    section("Partitions and inheritance attached afterwards", attach)
    section("Inherited columns with their own defaults", adjust)
    section(
        "Indexes",
        [i.definition + ";" for t in tables for i in t.indexes]
        + [i.definition + ";" for v in views for i in v.indexes],
    )
    section(
        "Constraints",
        [s for t in tables for s in _deferred_constraints(t)]
        + [
            f"ALTER DOMAIN {qualified(t.schema, t.name)} ADD {c};"
            for t in model.types
            for c in attr(t.attrs, "unvalidated", ())
        ],
    )
    section("Sequence ownership", [_owned_by(seq) for seq in model.sequences if seq.owned_by])
    section(
        "Triggers, row security, comments",
        [s for t in tables for s in table_extras(t, indexes=False)]
        + [s for v in views for s in view_extras(v, indexes=False)],
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
    by_name = {f"{t.schema}.{t.name}": t for t in model.tables}
    for table in model.tables:
        create, attached, adjusted = _table_statements(table, by_name)
        owned = [
            _owned_by(s)
            for s in model.sequences
            if s.owned_by and _unquote(s.owned_by[0]) == f"{table.schema}.{table.name}"
        ]
        add(
            object_path(table.schema, "tables", table.name),
            create,
            *attached,
            *adjusted,
            *_deferred_constraints(table),
            *owned,
            *table_extras(table),
        )
    for view in model.views:
        add(object_path(view.schema, "views", view.name), view_sql(view), *view_extras(view))
    return {path: "\n".join(statements) + "\n" for path, statements in sorted(files.items())}
