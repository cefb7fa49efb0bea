"""Render an SQLite schema model as DDL: the server's own CREATE text, in dependency order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from dbfleet.engines.sqlite.dialect import DIALECT
from dbfleet.engines.sqlite.inspect import SCHEMA, fold, tokens
from dbfleet.schema.model import Column, Model, Table, View, attr

q = DIALECT.quote_ident

# --- objects ------------------------------------------------------------------------------------


def table_sql(table: Table) -> str:
    """The table's CREATE TABLE as SQLite keeps it; built from the structure when there is none
    (a model written by hand or by a diff)."""
    sql = attr(table.attrs, "sql")
    if sql:
        return f"{sql};"
    body = [column_sql(c) for c in table.columns]
    body += [f"CONSTRAINT {q(c.name)} {c.definition}" for c in table.constraints]
    inner = ",\n".join(f"    {line}" for line in body)
    options = [
        option
        for option, on in (
            ("WITHOUT ROWID", attr(table.attrs, "without_rowid")),
            ("STRICT", attr(table.attrs, "strict")),
        )
        if on
    ]
    return (
        f"CREATE TABLE {q(table.name)} (\n{inner}\n){' ' + ', '.join(options) if options else ''};"
    )


def column_sql(column: Column) -> str:
    parts = [q(column.name)]
    if column.type:
        parts.append(column.type)
    if column.collation:
        parts.append(f"COLLATE {q(column.collation)}")
    if column.generated is not None:
        parts.append(f"AS ({column.generated}) {column.generated_kind or 'VIRTUAL'}")
    if column.default is not None:
        parts.append(f"DEFAULT {default_sql(column.default)}")
    if not column.nullable:
        parts.append("NOT NULL")
        on_conflict = attr(column.attrs, "not_null_on_conflict")
        if on_conflict:
            parts.append(f"ON CONFLICT {on_conflict}")
    return " ".join(parts)


def default_sql(default: str) -> str:
    """A default as the pragma prints it, made a DEFAULT clause again: the pragma drops the
    parentheses around an expression, but a bare word must stay bare (SQLite reads
    `DEFAULT abc` as the string 'abc', and `(abc)` as a column)."""
    found = tokens(default)
    single = len(found) == 1 or (len(found) == 2 and found[0].text in "+-")
    return default if single else f"({default})"


def view_sql(view: View) -> str:
    columns = attr(view.attrs, "columns")
    names = f"({', '.join(q(c) for c in columns)})" if columns else ""
    return f"CREATE VIEW {q(view.name)}{names} AS\n{view.definition};"


# --- ordering -----------------------------------------------------------------------------------

_T = TypeVar("_T")


def _in_order(
    items: Iterable[_T], name: Callable[[_T], str], needs: Callable[[_T], Iterable[str]]
) -> list[_T]:
    """By name, except that what an item needs comes before it (cycles are broken by name)."""
    by_name = {fold(name(item)): item for item in items}
    done: dict[str, _T] = {}

    def visit(key: str, trail: tuple[str, ...]) -> None:
        if key in done or key in trail or key not in by_name:
            return
        for other in sorted(fold(n) for n in needs(by_name[key])):
            visit(other, (*trail, key))
        done[key] = by_name[key]

    for key in sorted(by_name, key=lambda k: name(by_name[k])):
        visit(key, ())
    return list(done.values())


def tables_in_order(tables: Iterable[Table]) -> list[Table]:
    """Referenced tables first where the foreign keys allow it (SQLite does not check them at
    CREATE TABLE, so a cycle does no harm; the order is for the reader)."""
    return _in_order(
        tables,
        lambda t: t.name,
        lambda t: [c.references[1] for c in t.constraints if c.references],
    )


def views_in_order(views: Iterable[View]) -> list[View]:
    return _in_order(views, lambda v: v.name, lambda v: attr(v.attrs, "depends_on", ()))


# --- the whole model ----------------------------------------------------------------------------


def render(model: Model) -> str:
    """The model as one script that creates it in an empty database."""
    tables = tables_in_order(model.tables)
    views = views_in_order(model.views)
    sections = [
        ("Tables", [table_sql(t) for t in tables]),
        ("Indexes", [f"{i.definition};" for t in tables for i in t.indexes]),
        ("Views", [view_sql(v) for v in views]),
        (
            "Triggers",
            [f"{tr.definition};" for t in tables for tr in t.triggers]
            + [f"{tr.definition};" for v in views for tr in v.triggers],
        ),
    ]
    out = ["-- dbfleet schema (SQLite)"]
    for title, statements in sections:
        if statements:
            out += ["", f"-- {title}", *statements]
    return "\n".join(out) + "\n"


def render_files(model: Model) -> dict[str, str]:
    """One file per table (with its indexes and triggers) and per view (with its triggers)."""
    from dbfleet.schema.layout import object_path

    files: dict[str, list[str]] = {}
    for table in model.tables:
        files[object_path(SCHEMA, "tables", table.name)] = [
            table_sql(table),
            *(f"{i.definition};" for i in table.indexes),
            *(f"{t.definition};" for t in table.triggers),
        ]
    for view in model.views:
        files[object_path(SCHEMA, "views", view.name)] = [
            view_sql(view),
            *(f"{t.definition};" for t in view.triggers),
        ]
    return {path: "\n".join(statements) + "\n" for path, statements in sorted(files.items())}
