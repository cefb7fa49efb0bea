"""Read a MariaDB database into the schema model: a fixed set of information_schema queries."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from dbfleet.engines.base import Connection
from dbfleet.engines.mysql.dialect import DIALECT
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import (
    Column,
    Constraint,
    Event,
    Index,
    Model,
    Routine,
    Sequence,
    Table,
    Trigger,
    View,
    attrs,
)

q = DIALECT.quote_ident
literal = DIALECT.quote_literal

# Objects of the connected database have this schema: the model of a database does not depend
# on what the database is called, so two copies of one schema under two names compare equal.
CURRENT = ""

# The index type an engine uses when CREATE TABLE names none; any other is written as USING.
_DEFAULT_INDEX_TYPE = {"MEMORY": "HASH"}
_STATUS = {"ENABLED": "ENABLE", "DISABLED": "DISABLE", "SLAVESIDE_DISABLED": "DISABLE ON SLAVE"}
_EXTRA = re.compile(
    r"(?P<auto>auto_increment)|(?P<invisible>INVISIBLE)|(?P<kind>VIRTUAL|STORED) GENERATED"
    r"|on update (?P<on_update>.+)|(?P<unversioned>WITHOUT SYSTEM VERSIONING)",
    re.IGNORECASE,
)
_AGGREGATE_BODY = re.compile(r"\bFETCH\s+GROUP\s+NEXT\s+ROW\b", re.IGNORECASE)
_LIST_DEFAULT = re.compile(r"\(?MAXVALUE(?:,MAXVALUE)*\)?")


@cache
def catalog_query(name: str) -> str:
    """A catalog query kept beside this module as catalog/NAME.sql."""
    return (files("dbfleet.engines.mysql") / "catalog" / f"{name}.sql").read_text("utf-8")


def inspect(conn: Connection) -> Model:
    """The connected database (DATABASE()) as a Model; its objects get the schema ""."""

    def rows(name: str) -> list[dict[str, Any]]:
        return conn.records(catalog_query(name))

    found = rows("database")
    if not found:
        raise DbfleetError(
            f"{conn.url.display} names no database to inspect", hint="add /DATABASE to the URL"
        )
    database = found[0]
    _check_server(conn, database["version"])
    local = _Localizer(database["name"])
    warnings: list[str] = []

    by_table: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for kind in ("columns", "indexes", "foreign_key_columns", "checks", "partitions", "triggers"):
        for r in rows(kind):
            by_table[kind][r["table_name"]].append(r)
    rules = {(r["table_name"], r["name"]): r for r in rows("foreign_keys")}

    table_rows = sorted(rows("tables"), key=lambda r: r["name"])
    sequences = _sequences(conn, [r for r in table_rows if r["type"] == "SEQUENCE"], warnings)
    tables = []
    for r in table_rows:
        name = r["name"]
        if r["type"] == "SEQUENCE":
            continue
        partitions = by_table["partitions"][name]
        if _has_ambiguous_list_default(partitions):
            partitions = _resolve_list_default(conn, name, partitions)
        tables.append(
            _table(
                r,
                [_localized(c, local, "default", "generated") for c in by_table["columns"][name]],
                by_table["indexes"][name],
                _foreign_keys(by_table["foreign_key_columns"][name], rules, local),
                [_localized(c, local, "clause") for c in by_table["checks"][name]],
                partitions,
                [_trigger(t, local, database, warnings) for t in by_table["triggers"][name]],
                warnings,
            )
        )

    views = [
        view
        for r in sorted(rows("views"), key=lambda r: r["name"])
        if (view := _view(r, local, warnings)) is not None
    ]
    view_names = {v.name for v in views}
    views = [_with_dependencies(v, view_names) for v in views]

    parameters: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows("parameters"):
        parameters[(r["routine"], r["kind"])].append(r)
    routines = []
    for r in sorted(rows("routines"), key=lambda r: (r["name"], r["kind"])):
        routine = _routine(r, parameters[(r["name"], r["kind"])], local, database, warnings)
        if routine is not None:
            routines.append(routine)

    events = [
        _event(r, local, database, warnings)
        for r in sorted(rows("events"), key=lambda r: r["name"])
    ]
    return Model(
        engine="mysql",
        sequences=tuple(sequences),
        tables=tuple(tables),
        views=tuple(views),
        routines=tuple(routines),
        events=tuple(events),
        warnings=tuple(warnings),
    )


def _check_server(conn: Connection, version: str) -> None:
    """Refuse a server whose catalog lacks what the queries read (MySQL, MariaDB before 10.6)."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if "mariadb" in version.lower() and match and (int(match[1]), int(match[2])) >= (10, 6):
        return
    raise DbfleetError(
        f"cannot inspect {conn.url.display}: it runs {version}, and dbfleet reads the catalog "
        "of MariaDB 10.6 or later",
        hint="inspect a MariaDB copy of the schema",
    )


# --- tables ---------------------------------------------------------------------------------


def _sequences(
    conn: Connection, tables: list[dict[str, Any]], warnings: list[str]
) -> list[Sequence]:
    """Every sequence, read with one query whatever their number."""
    if not tables:
        return []
    template = "\n".join(
        line for line in catalog_query("sequence").splitlines() if not line.startswith("--")
    )
    union = "\nUNION ALL\n".join(
        template.format(name=literal(t["name"]), table=q(t["name"])) for t in tables
    )
    options = {r["name"]: r for r in conn.records(union)}
    out = []
    for t in tables:
        if (t["engine"] or "").upper() != "INNODB":
            warnings.append(f"sequence {t['name']}: ENGINE={t['engine']} is not modelled")
        r = options[t["name"]]
        out.append(
            Sequence(
                schema=CURRENT,
                name=t["name"],
                start=r["start"],
                increment=r["increment"],
                minimum=r["minimum"],
                maximum=r["maximum"],
                cache=r["cache"],
                cycle=bool(r["cycle"]),
                comment=t["comment"] or None,
            )
        )
    return out


def _localized(r: dict[str, Any], local: _Localizer, *keys: str) -> dict[str, Any]:
    """The row with the connected database's qualifiers removed from SQL text in `keys`."""
    return r | {k: local(r[k]) if r[k] is not None else None for k in keys}


def _table(
    r: dict[str, Any],
    columns: list[dict[str, Any]],
    index_parts: list[dict[str, Any]],
    foreign_keys: list[Constraint],
    checks: list[dict[str, Any]],
    partitions: list[dict[str, Any]],
    triggers: list[Trigger],
    warnings: list[str],
) -> Table:
    name = r["name"]
    engine = r["engine"] or ""
    options = [o for o in (r["options"] or "").split() if o != "partitioned"]
    row_format = next((o.split("=", 1)[1] for o in options if o.startswith("row_format=")), None)
    options = [o for o in options if not o.startswith("row_format=")]
    if engine.upper() == "ARIA":
        # Aria reports the transactional flag it derived from the row format as if it had
        # been written; written out, it would become part of the table's definition.
        implied = "transactional=1" if row_format in (None, "PAGE") else "transactional=0"
        options = [o for o in options if o != implied]

    model_columns = [_column(c, r["collation"], name, warnings) for c in columns]
    constraints, indexes = _indexes(index_parts, engine)
    constraints += foreign_keys
    constraints += sorted(
        (
            Constraint(
                name=c["name"],
                kind="check",
                definition=f"CHECK ({c['clause']})",
                columns=(c["name"],) if c["level"] == "Column" else (),
                attrs=attrs(column_level=c["level"] == "Column"),
            )
            for c in checks
        ),
        key=lambda c: c.name,
    )
    partition_attrs = _partitioning(partitions, name, warnings)
    return Table(
        schema=CURRENT,
        name=name,
        columns=tuple(model_columns),
        constraints=tuple(constraints),
        indexes=tuple(indexes),
        triggers=tuple(triggers),
        comment=r["comment"] or None,
        attrs=attrs(
            engine=engine,
            charset=r["charset"],
            collation=r["collation"],
            row_format=row_format,
            options=tuple(options),
            system_versioning=r["type"] == "SYSTEM VERSIONED",
            **partition_attrs,
        ),
    )


def _column(
    r: dict[str, Any], table_collation: str | None, table: str, warnings: list[str]
) -> Column:
    auto_increment = invisible = unversioned = False
    kind = on_update = None
    for item in filter(None, (r["extra"] or "").split(", ")):
        match = _EXTRA.fullmatch(item)
        if match is None:
            warnings.append(f"column {table}.{r['name']}: '{item}' is not modelled")
        elif match["auto"]:
            auto_increment = True
        elif match["invisible"]:
            invisible = True
        elif match["unversioned"]:
            unversioned = True
        elif match["kind"]:
            kind = match["kind"].upper()
        else:
            on_update = match["on_update"]
    generated = r["generated"] if r["is_generated"] else None
    row_period = None
    if generated in ("ROW START", "ROW END"):  # system versioning's period columns
        row_period, generated, kind = generated.split()[1], None, None
    default = r["default"]
    if default == "NULL" or generated or row_period:
        default = None  # how the catalog says "no default" for a nullable or generated column
    collation = r["collation"] if r["collation"] != table_collation else None
    return Column(
        name=r["name"],
        type=r["type"],
        nullable=bool(r["nullable"]),
        default=default,
        generated=generated,
        generated_kind=kind if generated else None,
        collation=collation,
        comment=r["comment"] or None,
        attrs=attrs(
            charset=r["charset"] if collation else None,
            auto_increment=auto_increment,
            on_update=on_update,
            invisible=invisible,
            row=row_period,
            without_system_versioning=unversioned,
        ),
    )


def _indexes(parts: list[dict[str, Any]], engine: str) -> tuple[list[Constraint], list[Index]]:
    """The primary key (a constraint) and the other indexes of one table, by name."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in parts:
        grouped[p["name"]].append(p)
    default_type = _DEFAULT_INDEX_TYPE.get(engine.upper(), "BTREE")
    constraints: list[Constraint] = []
    indexes: list[Index] = []
    for name in sorted(grouped):
        index = grouped[name]
        first = index[0]
        index_type = first["index_type"]
        keyword = {"FULLTEXT": "FULLTEXT KEY", "SPATIAL": "SPATIAL KEY"}.get(index_type, "KEY")
        if first["is_unique"]:
            keyword = "UNIQUE KEY"
        elements = ",".join(_index_part(p, index_type) for p in index)
        options = ""
        if index_type in ("BTREE", "HASH", "RTREE") and index_type != default_type:
            options += f" USING {index_type}"
        if first["comment"]:
            options += f" COMMENT {literal(first['comment'])}"
        if first["ignored"]:
            options += " IGNORED"
        columns = tuple(p["column_name"] for p in index)
        if name == "PRIMARY":
            constraints.append(
                Constraint(name, "primary key", f"PRIMARY KEY ({elements}){options}", columns)
            )
        else:
            indexes.append(
                Index(
                    name=name,
                    definition=f"{keyword} {q(name)} ({elements}){options}",
                    unique=bool(first["is_unique"]),
                    columns=columns,
                    comment=first["comment"] or None,
                )
            )
    return constraints, indexes


def _index_part(p: dict[str, Any], index_type: str) -> str:
    text = q(p["column_name"])
    # SPATIAL parts report a SUB_PART of 32 that cannot be written back.
    if p["sub_part"] is not None and index_type != "SPATIAL":
        text += f"({p['sub_part']})"
    if p["collation"] == "D":
        text += " DESC"
    return text


def _foreign_keys(
    columns: list[dict[str, Any]],
    rules: dict[tuple[str, str], dict[str, Any]],
    local: _Localizer,
) -> list[Constraint]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in columns:
        grouped[c["name"]].append(c)
    out = []
    for name in sorted(grouped):
        parts = grouped[name]
        first = parts[0]
        ref_schema = local.schema(first["ref_schema"])
        ref_columns = tuple(p["ref_column"] for p in parts)
        target = q(first["ref_table"])
        if ref_schema:
            target = f"{q(ref_schema)}.{target}"
        definition = (
            f"FOREIGN KEY ({', '.join(q(p['column_name']) for p in parts)}) "
            f"REFERENCES {target} ({', '.join(q(c) for c in ref_columns)})"
        )
        rule = rules.get((first["table_name"], name), {})
        # RESTRICT is what the catalog reports for an action that was not written.
        for clause, key in (("ON DELETE", "on_delete"), ("ON UPDATE", "on_update")):
            if rule.get(key, "RESTRICT") != "RESTRICT":
                definition += f" {clause} {rule[key]}"
        out.append(
            Constraint(
                name=name,
                kind="foreign key",
                definition=definition,
                columns=tuple(p["column_name"] for p in parts),
                references=(ref_schema, first["ref_table"], ref_columns),
            )
        )
    return out


def _partitioning(parts: list[dict[str, Any]], table: str, warnings: list[str]) -> dict[str, Any]:
    """Table attrs for PARTITION BY: the methods, and each partition or just their number.

    Partitions and subpartitions named as the server names them when only a number is given
    (p0, p1, ...; p0sp0, p0sp1, ...) are kept as that number, as SHOW CREATE TABLE prints them.
    """
    if not parts:
        return {}
    first = parts[0]
    method = first["method"]
    if method == "SYSTEM_TIME":
        warnings.append(f"table {table}: PARTITION BY SYSTEM_TIME is not modelled")
        return {}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for p in parts:
        grouped.setdefault(p["name"], []).append(p)
    sub_counts = {len(rows) for rows in grouped.values()}
    sub_count = next(iter(sub_counts)) if len(sub_counts) == 1 else None
    # A partition's comment is its subpartitions' (the server copies it down), so it can only
    # be written on the partition when they all share it.
    if first["sub_method"] is None or not all(
        [r["subpartition"] for r in rows] == [f"{name}sp{i}" for i in range(len(rows))]
        and len({r["comment"] for r in rows}) == 1
        for name, rows in grouped.items()
    ):
        sub_count = None
    definitions = []
    for name, rows in grouped.items():
        p = rows[0]
        text = f"PARTITION {q(name)}"
        text += _partition_values(method, p["description"])
        if p["subpartition"] is not None and sub_count is None:
            subs = ", ".join(
                f"SUBPARTITION {q(r['subpartition'])}" + _partition_comment(r) for r in rows
            )
            text += f" ({subs})"
        else:
            text += _partition_comment(p)
        definitions.append(text)
    counted = definitions == [f"PARTITION `p{i}`" for i in range(len(definitions))]
    return {
        "partition_by": _partition_method(method, first["expression"]),
        "partition_count": len(definitions) if counted else None,
        "subpartition_by": _partition_method(first["sub_method"], first["sub_expression"])
        if first["sub_method"]
        else None,
        "subpartition_count": sub_count,
        "partitions": () if counted else tuple(definitions),
    }


def _partition_comment(r: dict[str, Any]) -> str:
    return f" COMMENT = {literal(r['comment'])}" if r["comment"] else ""


def _partition_method(method: str, expression: str | None) -> str:
    return f"{method} ({expression or ''})"


def _partition_values(method: str, description: str | None) -> str:
    if method.startswith("RANGE"):
        return (
            " VALUES LESS THAN MAXVALUE"
            if description == "MAXVALUE"
            else f" VALUES LESS THAN ({description})"
        )
    if method.startswith("LIST"):
        # The catalog prints a DEFAULT partition of LIST COLUMNS as MAXVALUE, a value no list
        # can hold (and that of LIST as 0: see _resolve_list_default).
        if description is None or _LIST_DEFAULT.fullmatch(description):
            return " DEFAULT"
        return f" VALUES IN ({description})"
    return ""


def _has_ambiguous_list_default(parts: list[dict[str, Any]]) -> bool:
    return any(p["method"] == "LIST" and p["description"] == "0" for p in parts)


def _resolve_list_default(
    conn: Connection, table: str, parts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Tell a LIST table's DEFAULT partition from one holding 0: the catalog prints both as 0.

    Only SHOW CREATE TABLE knows; it is run for such tables alone, so inspection stays a fixed
    number of queries for every other schema.
    """
    text = conn.query(f"SHOW CREATE TABLE {q(table)}")[0][1]
    defaults = {
        m.group(1).replace("``", "`")
        for m in re.finditer(r"PARTITION `((?:[^`]|``)+)` DEFAULT", text)
    }
    return [p | {"description": None} if p["name"] in defaults else p for p in parts]


# --- stored programs and views ------------------------------------------------------------


def _trigger(
    r: dict[str, Any], local: _Localizer, database: dict[str, Any], warnings: list[str]
) -> Trigger:
    _check_sql_mode("trigger", r["name"], r["sql_mode"], database, warnings)
    definition = (
        f"CREATE TRIGGER {q(r['name'])} {r['timing']} {r['event']} ON {q(r['table_name'])} "
        f"FOR EACH ROW {local(r['body'])}"
    )
    return Trigger(name=r["name"], definition=definition)


def _view(r: dict[str, Any], local: _Localizer, warnings: list[str]) -> View | None:
    definition = local(r["definition"])
    if not definition:
        warnings.append(f"view {r['name']}: its definition is not readable (left out)")
        return None
    return View(
        schema=CURRENT,
        name=r["name"],
        definition=definition,
        attrs=attrs(
            algorithm=r["algorithm"] if r["algorithm"] != "UNDEFINED" else None,
            security=r["security"] if r["security"] != "DEFINER" else None,
            check_option=r["check_option"] if r["check_option"] != "NONE" else None,
        ),
    )


def _with_dependencies(view: View, view_names: set[str]) -> View:
    depends = tuple(sorted(n for n in _referenced_tables(view.definition) if n in view_names))
    if not depends:
        return view
    return View(
        schema=view.schema,
        name=view.name,
        definition=view.definition,
        attrs=tuple(sorted((*view.attrs, ("depends_on", depends)))),
    )


def _routine(
    r: dict[str, Any],
    parameters: list[dict[str, Any]],
    local: _Localizer,
    database: dict[str, Any],
    warnings: list[str],
) -> Routine | None:
    name = r["name"]
    if r["kind"] not in ("FUNCTION", "PROCEDURE"):
        warnings.append(f"{r['kind'].lower()} {name} is not modelled (left out)")
        return None
    if r["body"] is None:
        warnings.append(f"{r['kind'].lower()} {name}: its body is not readable (left out)")
        return None
    _check_sql_mode(r["kind"].lower(), name, r["sql_mode"], database, warnings)
    body = local(r["body"])
    kind = r["kind"].lower()
    if kind == "function" and _AGGREGATE_BODY.search(body):
        kind = "aggregate"
    signature = ", ".join(
        (f"{p['mode']} " if r["kind"] == "PROCEDURE" else "")
        + f"{q(p['name'])} {_data_type(p['type'], p['charset'], p['collation'])}"
        for p in parameters
    )
    head = "CREATE AGGREGATE FUNCTION" if kind == "aggregate" else f"CREATE {r['kind']}"
    head += f" {q(name)}({signature})"
    if r["kind"] == "FUNCTION":
        head += f" RETURNS {_data_type(r['returns'], r['charset'], r['collation'])}"
    characteristics = []
    if r["is_deterministic"]:
        characteristics.append("DETERMINISTIC")
    if r["data_access"] != "CONTAINS SQL":
        characteristics.append(r["data_access"])
    if r["security"] == "INVOKER":
        characteristics.append("SQL SECURITY INVOKER")
    if r["comment"]:
        characteristics.append(f"COMMENT {literal(r['comment'])}")
    definition = "\n".join([head, *(f"    {c}" for c in characteristics), body])
    return Routine(
        schema=CURRENT,
        name=name,
        kind=kind,
        signature=signature,
        definition=definition,
        comment=r["comment"] or None,
    )


def _data_type(dtd: str, charset: str | None, collation: str | None) -> str:
    # Written out in full, so that the routine does not change with the database's default.
    if charset and charset != "binary":
        return f"{dtd} CHARSET {charset} COLLATE {collation}"
    return dtd


def _event(
    r: dict[str, Any], local: _Localizer, database: dict[str, Any], warnings: list[str]
) -> Event:
    name = r["name"]
    _check_sql_mode("event", name, r["sql_mode"], database, warnings)
    if r["time_zone"] != database["time_zone"]:
        warnings.append(
            f"event {name} was created in time zone {r['time_zone']}, not the server's "
            f"{database['time_zone']}: the time zone is not modelled"
        )
    if r["type"] == "ONE TIME":
        schedule = f"AT {_timestamp(r['execute_at'])}"
    else:
        schedule = f"EVERY {r['interval_value']} {r['interval_field']}"
        if r["starts"] is not None:
            schedule += f" STARTS {_timestamp(r['starts'])}"
        if r["ends"] is not None:
            schedule += f" ENDS {_timestamp(r['ends'])}"
    definition = (
        f"CREATE EVENT {q(name)} ON SCHEDULE {schedule} ON COMPLETION {r['on_completion']} "
        f"{_STATUS.get(r['status'], 'ENABLE')}"
    )
    if r["comment"]:
        definition += f" COMMENT {literal(r['comment'])}"
    definition += f" DO {local(r['body'])}"
    return Event(schema=CURRENT, name=name, definition=definition, comment=r["comment"] or None)


def _timestamp(value: datetime | str) -> str:
    text = value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
    return literal(text)


def _check_sql_mode(
    kind: str, name: str, mode: str, database: dict[str, Any], warnings: list[str]
) -> None:
    # A body is parsed under the sql_mode it was created with; rendered DDL is loaded under the
    # server's, so only a body created under the server's mode round-trips exactly.
    if mode != database["sql_mode"]:
        warnings.append(
            f"{kind} {name} was created with sql_mode '{mode}', not the server's "
            f"'{database['sql_mode']}': the mode is not modelled"
        )


# --- text printed by the server -------------------------------------------------------------

_QUOTED = r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|--[ \t][^\n]*|\#[^\n]*|/\*.*?\*/"
_IDENT = r"`(?:[^`]|``)*`"


class _Localizer:
    """Removes qualifiers naming the connected database from SQL text (views, bodies, defaults).

    Strings and comments are left alone; `db`.x and db.x lose "db." unless a dot comes before
    them (x.`db`.y names a table `db`). A table alias spelled like the database is taken for
    the database: the text alone cannot tell them apart.
    """

    def __init__(self, database: str) -> None:
        self.database = database
        bare = re.escape(database)
        self.pattern = re.compile(
            rf"(?P<skip>{_QUOTED})"
            rf"|(?<![.\w$`])(?:{re.escape(q(database))}|{bare}(?![\w$]))\s*\.(?=\s*[`\w$])"
            rf"|(?P<ident>{_IDENT})",
            re.DOTALL,
        )

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        return self.pattern.sub(lambda m: m.group() if m.lastgroup else "", text)

    def schema(self, name: str | None) -> str:
        return CURRENT if name is None or name == self.database else name


_ALIAS_BEFORE = re.compile(r"(?<![\w$])AS\Z", re.IGNORECASE)
_TABLE_REFERENCE = re.compile(rf"(?P<skip>{_QUOTED})|(?P<ident>{_IDENT})", re.DOTALL)


def _referenced_tables(query: str) -> Iterable[str]:
    """Names a server-printed query may use as tables or views (over-approximated).

    A table reference is a quoted name that is not part of a dotted name and not an alias
    ("AS `x`"); what that leaves besides tables is harmless for ordering.
    """
    for m in _TABLE_REFERENCE.finditer(query):
        if m.lastgroup != "ident":
            continue
        before = query[max(0, m.start() - 16) : m.start()].rstrip()
        after = query[m.end() : m.end() + 16].lstrip()
        if after.startswith(".") or before.endswith(".") or _ALIAS_BEFORE.search(before):
            continue
        yield m.group()[1:-1].replace("``", "`")


_TABLE_SIZES = """
SELECT table_name, table_rows, data_length + index_length FROM information_schema.tables
WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
"""


def table_sizes(conn: Connection) -> dict[str, tuple[int, int | None]]:
    """{table: (rows, bytes)} from information_schema's estimates (InnoDB's are approximate)."""
    return {
        str(n).lower(): (int(r or 0), int(b) if b is not None else None)
        for n, r, b in conn.query(_TABLE_SIZES)
    }
