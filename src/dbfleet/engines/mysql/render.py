"""Render a MariaDB/MySQL schema model as DDL: deterministic, in dependency order, readable."""

from __future__ import annotations

from collections.abc import Iterable

from dbfleet.engines.mysql.dialect import DIALECT
from dbfleet.schema.model import Column, Constraint, Model, Routine, Sequence, Table, View, attr

q = DIALECT.quote_ident
literal = DIALECT.quote_literal

# The folder of the connected database's objects (schema "") in a split layout. The model does
# not know the database's name (two copies of a schema under two names are one model), so the
# folder has a fixed name: DIR/default/tables/users.sql whatever the database is called.
SCHEMA_FOLDER = "default"


def qualified(schema: str, name: str) -> str:
    """`name` in the current database, `schema`.`name` in another one."""
    return f"{q(schema)}.{q(name)}" if schema else q(name)


# --- objects ------------------------------------------------------------------------------------


def column_sql(column: Column, check: Constraint | None = None) -> str:
    parts = [q(column.name), column.type]
    if column.collation:
        charset = attr(column.attrs, "charset")
        if charset:
            parts.append(f"CHARACTER SET {charset}")
        parts.append(f"COLLATE {column.collation}")
    row = attr(column.attrs, "row")
    if row:
        parts.append(f"GENERATED ALWAYS AS ROW {row}")
    elif column.generated:
        parts.append(f"GENERATED ALWAYS AS ({column.generated}) {column.generated_kind}")
    if not column.nullable and not row:
        parts.append("NOT NULL")
    elif column.nullable and column.type.startswith("timestamp") and not column.generated:
        # Without it the first TIMESTAMP column is NOT NULL where explicit_defaults_for_timestamp
        # is off.
        parts.append("NULL")
    if attr(column.attrs, "without_system_versioning"):
        parts.append("WITHOUT SYSTEM VERSIONING")
    if attr(column.attrs, "invisible"):
        parts.append("INVISIBLE")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if attr(column.attrs, "on_update"):
        parts.append(f"ON UPDATE {attr(column.attrs, 'on_update')}")
    if attr(column.attrs, "auto_increment"):
        parts.append("AUTO_INCREMENT")
    if column.comment:
        parts.append(f"COMMENT {literal(column.comment)}")
    if check is not None:
        parts.append(check.definition)
    return " ".join(parts)


def table_options(table: Table) -> str:
    options = [f"ENGINE={attr(table.attrs, 'engine')}"] if attr(table.attrs, "engine") else []
    if attr(table.attrs, "charset"):
        options.append(f"DEFAULT CHARSET={attr(table.attrs, 'charset')}")
    if attr(table.attrs, "collation"):
        options.append(f"COLLATE={attr(table.attrs, 'collation')}")
    for option in attr(table.attrs, "options", ()):
        key, sep, value = option.partition("=")
        # Engine-defined options print quoted (`page_compressed`=1) and stay as printed.
        options.append(option if key.startswith("`") else f"{key.upper()}{sep}{value}")
    if attr(table.attrs, "row_format"):
        options.append(f"ROW_FORMAT={attr(table.attrs, 'row_format')}")
    if table.comment:
        options.append(f"COMMENT={literal(table.comment)}")
    if attr(table.attrs, "system_versioning"):
        options.append("WITH SYSTEM VERSIONING")
    return " ".join(options)


def partitioning_sql(table: Table) -> str:
    method = attr(table.attrs, "partition_by")
    if not method:
        return ""
    text = f"\nPARTITION BY {method}"
    if attr(table.attrs, "partition_count"):
        text += f"\nPARTITIONS {attr(table.attrs, 'partition_count')}"
    if attr(table.attrs, "subpartition_by"):
        text += f"\nSUBPARTITION BY {attr(table.attrs, 'subpartition_by')}"
    if attr(table.attrs, "subpartition_count"):
        text += f"\nSUBPARTITIONS {attr(table.attrs, 'subpartition_count')}"
    partitions = ",\n ".join(attr(table.attrs, "partitions", ()))
    return text + (f"\n({partitions})" if partitions else "")


def table_sql(table: Table) -> str:
    """CREATE TABLE with everything but foreign keys (those come once every table exists)."""
    column_checks = {
        c.name: c for c in table.constraints if c.kind == "check" and attr(c.attrs, "column_level")
    }
    body = [column_sql(c, column_checks.get(c.name)) for c in table.columns]
    body += [c.definition for c in table.constraints if c.kind == "primary key"]
    body += [i.definition for i in table.indexes]
    rows = {attr(c.attrs, "row"): c.name for c in table.columns if attr(c.attrs, "row")}
    if rows:
        body.append(f"PERIOD FOR SYSTEM_TIME ({q(rows['START'])}, {q(rows['END'])})")
    body += [
        f"CONSTRAINT {q(c.name)} {c.definition}"
        for c in table.constraints
        if c.kind == "check" and not attr(c.attrs, "column_level")
    ]
    inner = ",\n".join(f"    {line}" for line in body)
    return (
        f"CREATE TABLE {qualified(table.schema, table.name)} (\n{inner}\n) "
        f"{table_options(table)}{partitioning_sql(table)};"
    )


def foreign_keys_sql(table: Table) -> list[str]:
    """One ALTER TABLE adding all foreign keys of a table (one table rebuild, not one each)."""
    adds = [
        f"ADD CONSTRAINT {q(c.name)} {c.definition}"
        for c in table.constraints
        if c.kind == "foreign key"
    ]
    if not adds:
        return []
    return [f"ALTER TABLE {qualified(table.schema, table.name)}\n    " + ",\n    ".join(adds) + ";"]


def without_foreign_key_checks(statements: list[str]) -> list[str]:
    """`statements` between SET FOREIGN_KEY_CHECKS = 0 and = 1 (nothing when there are none)."""
    # With checks off a foreign key may name a table created later (in another file), and InnoDB
    # adds it in place instead of copying the table: half the load time of 1,000 tables. The
    # tables are new and empty, so nothing goes unchecked.
    if not statements:
        return []
    return ["SET FOREIGN_KEY_CHECKS = 0;", *statements, "SET FOREIGN_KEY_CHECKS = 1;"]


def sequence_sql(seq: Sequence) -> str:
    cycle = "CYCLE" if seq.cycle else "NOCYCLE"
    text = (
        f"CREATE SEQUENCE {qualified(seq.schema, seq.name)} START WITH {seq.start} "
        f"MINVALUE {seq.minimum} MAXVALUE {seq.maximum} INCREMENT BY {seq.increment} "
        f"CACHE {seq.cache} {cycle}"
    )
    if seq.comment:
        text += f" COMMENT={literal(seq.comment)}"
    return text + ";"


def view_sql(view: View) -> str:
    head = "CREATE"
    if attr(view.attrs, "algorithm"):
        head += f" ALGORITHM={attr(view.attrs, 'algorithm')}"
    if attr(view.attrs, "security"):
        head += f" SQL SECURITY {attr(view.attrs, 'security')}"
    text = f"{head} VIEW {qualified(view.schema, view.name)} AS\n{view.definition}"
    if attr(view.attrs, "check_option"):
        text += f"\nWITH {attr(view.attrs, 'check_option')} CHECK OPTION"
    return text + ";"


def program_sql(definition: str) -> str:
    """A routine, trigger or event; bodies with semicolons get a DELIMITER for clients."""
    return DIALECT.render_statement(definition)


def routine_folder(routine: Routine) -> str:
    return "procedures" if routine.kind == "procedure" else "functions"


# --- ordering -----------------------------------------------------------------------------------


def _views_in_order(views: Iterable[View]) -> list[View]:
    by_name = {v.name: v for v in views}
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


# --- the whole model ----------------------------------------------------------------------------


def render(model: Model) -> str:
    """The model as one script that creates it in an empty database.

    Order: sequences (column defaults call them), tables, foreign keys (added last, so table
    order never matters), routines, views, triggers, events. Routines come before views because
    a view calling a stored function cannot be created before the function, while routine
    bodies are not resolved until they run.
    """
    sections: list[tuple[str, list[str]]] = []

    def section(title: str, statements: list[str]) -> None:
        if statements:
            sections.append((title, statements))

    section("Sequences", [sequence_sql(s) for s in model.sequences])
    section("Tables", [table_sql(t) for t in model.tables])
    section(
        "Foreign keys",
        without_foreign_key_checks([s for t in model.tables for s in foreign_keys_sql(t)]),
    )
    section("Functions and procedures", [program_sql(r.definition) for r in model.routines])
    section("Views", [view_sql(v) for v in _views_in_order(model.views)])
    section("Triggers", [program_sql(tr.definition) for t in model.tables for tr in t.triggers])
    section("Events", [program_sql(e.definition) for e in model.events])
    out = ["-- dbfleet schema (MariaDB/MySQL)"]
    for title, statements in sections:
        out += ["", f"-- {title}", *statements]
    return "\n".join(out) + "\n"


def render_files(model: Model) -> dict[str, str]:
    """One file per object; a table's file holds its foreign keys and triggers too."""
    from dbfleet.schema.layout import object_path

    def path(schema: str, folder: str, name: str) -> str:
        return object_path(schema or SCHEMA_FOLDER, folder, name)

    files: dict[str, list[str]] = {}

    def add(relative: str, *statements: str) -> None:
        files.setdefault(relative, []).extend(statements)

    for seq in model.sequences:
        add(path(seq.schema, "sequences", seq.name), sequence_sql(seq))
    for table in model.tables:
        add(
            path(table.schema, "tables", table.name),
            table_sql(table),
            *without_foreign_key_checks(foreign_keys_sql(table)),
            *(program_sql(t.definition) for t in table.triggers),
        )
    for view in model.views:
        add(path(view.schema, "views", view.name), view_sql(view))
    for routine in model.routines:
        add(
            path(routine.schema, routine_folder(routine), routine.name),
            program_sql(routine.definition),
        )
    for event in model.events:
        add(path(event.schema, "events", event.name), program_sql(event.definition))
    return {p: "\n".join(statements) + "\n" for p, statements in sorted(files.items())}
