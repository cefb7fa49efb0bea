"""Read a PostgreSQL database into the schema model: one set-based catalog query per object kind."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from importlib.resources import files
from typing import Any

from dbfleet.engines.base import Connection
from dbfleet.engines.postgres.dialect import DIALECT
from dbfleet.schema.model import (
    Column,
    Constraint,
    Extension,
    Index,
    Model,
    Policy,
    Privilege,
    Routine,
    Schema,
    Sequence,
    Table,
    Trigger,
    UserType,
    View,
    attrs,
)

_CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique",
    "f": "foreign key",
    "c": "check",
    "x": "exclude",
}


@cache
def catalog_query(name: str) -> str:
    """A catalog query kept beside this module as catalog/NAME.sql."""
    return (files("dbfleet.engines.postgres") / "catalog" / f"{name}.sql").read_text("utf-8")


# The session inspect runs in, as pg_dump pins it: fully qualified names in every printed
# expression and text that means the same whatever the client's time zone or date style.
_SESSION = (
    "SET LOCAL search_path = ''",
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 3",
    # Catalog queries are short: compiling them costs more than it saves.
    "SET LOCAL jit = off",
)


def inspect(conn: Connection) -> Model:
    """The whole database as a Model (every user schema; filter it afterwards).

    All catalog queries run in one read-only REPEATABLE READ transaction, so they see one
    consistent snapshot even while migrations run elsewhere.
    """
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        for setting in _SESSION:
            conn.execute(setting)
        return _inspect(lambda name: conn.records(catalog_query(name)))
    finally:
        conn.execute("ROLLBACK")


def _inspect(rows: Any) -> Model:
    q = DIALECT.quote_ident
    by_table: dict[str, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in rows("columns"):
        by_table["columns"][r["table_oid"]].append(r)
    for r in rows("constraints"):
        by_table["constraints"][r["table_oid"]].append(_constraint(r))
    for r in rows("indexes"):
        by_table["indexes"][r["table_oid"]].append(_index(r))
    for r in rows("triggers"):
        by_table["triggers"][r["table_oid"]].append(
            Trigger(r["name"], r["definition"], r["comment"], attrs(disabled=r["enabled"] == "D"))
        )
    table_rows, view_rows = rows("tables"), rows("views")
    type_rows, routine_rows, sequence_rows = rows("types"), rows("routines"), rows("sequences")

    # Every modelled object by (kind, oid), under the key render orders them by.
    keys: dict[tuple[str, int], str] = {}
    for r in (*table_rows, *view_rows, *sequence_rows):
        keys["rel", r["oid"]] = relation_key(r["schema"], r["name"])
    for r in type_rows:
        keys["type", r["oid"]] = type_key(r["schema"], r["name"])
        if r["typrelid"]:
            keys["rel", r["typrelid"]] = keys["type", r["oid"]]  # a composite type's relation
    for r in routine_rows:
        keys["proc", r["oid"]] = routine_key(r["schema"], r["name"], r["signature"])
    needs: dict[str, set[str]] = defaultdict(set)
    for d in rows("dependencies"):
        source = keys.get((d["from_kind"], d["from_oid"]))
        target = keys.get((d["to_kind"], d["to_oid"]))
        if source and target and source != target:
            needs[source].add(target)

    def depends(key: str) -> tuple[str, ...]:
        return tuple(sorted(needs.get(key, ())))

    policies: dict[int, list[Policy]] = defaultdict(list)
    table_names = {r["oid"]: f"{q(r['schema'])}.{q(r['name'])}" for r in table_rows}
    for r in rows("policies"):
        if r["table_oid"] in table_names:
            policies[r["table_oid"]].append(_policy(r, table_names[r["table_oid"]]))

    tables = []
    for r in table_rows:
        oid = r["oid"]
        tables.append(
            Table(
                schema=r["schema"],
                name=r["name"],
                columns=tuple(_column(c) for c in by_table["columns"][oid]),
                constraints=tuple(by_table["constraints"][oid]),
                indexes=tuple(by_table["indexes"][oid]),
                triggers=tuple(by_table["triggers"][oid]),
                policies=tuple(policies[oid]),
                comment=r["comment"],
                attrs=attrs(
                    unlogged=r["unlogged"],
                    partition_by=r["partition_by"],
                    partition_of=tuple(r["partition_of"]) if r["partition_of"] else None,
                    partition_bound=r["partition_bound"],
                    inherits=tuple(r["inherits"] or ()),
                    row_security=r["rls"],
                    force_row_security=r["force_rls"],
                    options=tuple(sorted(r["options"] or ())),
                    depends_on=depends(keys["rel", oid]),
                ),
            )
        )

    views = []
    for r in view_rows:
        column_comments = tuple(
            (c["name"], c["comment"]) for c in by_table["columns"][r["oid"]] if c["comment"]
        )
        views.append(
            View(
                schema=r["schema"],
                name=r["name"],
                definition=r["definition"].strip().rstrip(";").strip(),
                materialized=r["materialized"],
                indexes=tuple(by_table["indexes"][r["oid"]]),
                triggers=tuple(by_table["triggers"][r["oid"]]),
                column_comments=column_comments,
                comment=r["comment"],
                attrs=attrs(
                    options=tuple(sorted(r["options"] or ())),
                    depends_on=depends(keys["rel", r["oid"]]),
                    # (name, type) of its output: CREATE OR REPLACE VIEW may only add to these.
                    columns=tuple((c["name"], c["type"]) for c in by_table["columns"][r["oid"]]),
                ),
            )
        )

    routines = []
    for r in routine_rows:
        if r["definition"] is None:
            continue  # aggregates: reported by the unmodelled query
        key = keys["proc", r["oid"]]
        routines.append(
            Routine(
                schema=r["schema"],
                name=r["name"],
                kind=r["kind"],
                signature=r["signature"],
                definition=r["definition"].strip(),
                comment=r["comment"],
                # What tells overloads apart: the input types (names and OUT
                # parameters may change under the same identity).
                attrs=attrs(depends_on=depends(key), input_types=r["input_types"]),
            )
        )

    grants, owners = _privileges(rows("privileges"))
    return Model(
        engine="postgresql",
        schemas=tuple(Schema(r["name"], r["comment"]) for r in rows("schemas")),
        extensions=tuple(
            Extension(r["name"], r["schema"], r["version"]) for r in rows("extensions")
        ),
        types=tuple(_user_type(r, q, depends(keys["type", r["oid"]])) for r in type_rows),
        sequences=tuple(_sequence(r, depends(keys["rel", r["oid"]])) for r in sequence_rows),
        tables=tuple(tables),
        views=tuple(views),
        routines=tuple(routines),
        grants=grants,
        owners=owners,
        warnings=tuple(
            f"{r['kind']} {r['name']} is not modelled (left out)" for r in rows("unmodelled")
        ),
    )


def relation_key(schema: str, name: str) -> str:
    """How dependencies name a table, view or sequence."""
    return f"rel:{schema}.{name}"


def type_key(schema: str, name: str) -> str:
    return f"type:{schema}.{name}"


def routine_key(schema: str, name: str, signature: str) -> str:
    return f"proc:{schema}.{name}({signature})"


def _column(r: dict[str, Any]) -> Column:
    return Column(
        name=r["name"],
        type=r["type"],
        nullable=r["nullable"],
        default=r["default"],
        generated=r["generated"],
        generated_kind=r["generated_kind"],
        identity=r["identity"],
        collation=r["collation"],
        comment=r["comment"],
        attrs=attrs(identity_options=r["identity_options"], inherited=not r["local"]),
    )


def _constraint(r: dict[str, Any]) -> Constraint:
    references = None
    if r["kind"] == "f":
        references = (r["ref_schema"], r["ref_table"], tuple(r["ref_columns"] or ()))
    return Constraint(
        name=r["name"],
        kind=_CONSTRAINT_KINDS[r["kind"]],
        definition=r["definition"],
        columns=tuple(r["columns"] or ()),
        references=references,
        comment=r["comment"],
        attrs=attrs(not_valid=not r["validated"]),
    )


def _index(r: dict[str, Any]) -> Index:
    # An index on a partitioned table prints as "ON ONLY parent"; created that way it would not
    # cascade to the partitions, so the model keeps the cascading form.
    definition = r["definition"].replace(" ON ONLY ", " ON ", 1)
    return Index(
        name=r["name"],
        definition=definition,
        unique=r["unique"],
        columns=tuple(r["columns"] or ()),
        comment=r["comment"],
    )


def _policy(r: dict[str, Any], table: str) -> Policy:
    parts = [f"CREATE POLICY {DIALECT.quote_ident(r['name'])} ON {table}"]
    if not r["permissive"]:
        parts.append("AS RESTRICTIVE")
    parts.append(f"FOR {r['command']}")
    parts.append("TO " + ", ".join(r["roles"] or ["PUBLIC"]))
    if r["using_expr"]:
        parts.append(f"USING ({r['using_expr']})")
    if r["check_expr"]:
        parts.append(f"WITH CHECK ({r['check_expr']})")
    return Policy(r["name"], " ".join(parts), r["comment"])


def _sequence(r: dict[str, Any], depends_on: tuple[str, ...]) -> Sequence:
    owned_by = None
    if r["owned_by"]:
        table, column = r["owned_by"].split("\t", 1)
        owned_by = (table, column)
    return Sequence(
        schema=r["schema"],
        name=r["name"],
        type=r["type"],
        start=r["start"],
        increment=r["increment"],
        minimum=r["minimum"],
        maximum=r["maximum"],
        cache=r["cache"],
        cycle=r["cycle"],
        owned_by=owned_by,
        comment=r["comment"],
        attrs=attrs(depends_on=depends_on),
    )


def _user_type(r: dict[str, Any], q: Any, depends_on: tuple[str, ...]) -> UserType:
    name = f"{q(r['schema'])}.{q(r['name'])}"
    kind = r["kind"]
    labels: tuple[str, ...] = ()
    if kind == "enum":
        labels = tuple(r["labels"] or ())
        body = ", ".join(DIALECT.quote_literal(v) for v in labels)
        definition = f"CREATE TYPE {name} AS ENUM ({body})"
    elif kind == "composite":
        definition = f"CREATE TYPE {name} AS ({', '.join(r['attributes'] or ())})"
    elif kind == "range":
        options = [f"SUBTYPE = {r['subtype']}"]
        if r["subtype_opclass"]:
            options.append(f"SUBTYPE_OPCLASS = {r['subtype_opclass']}")
        if r["subtype_diff"]:
            options.append(f"SUBTYPE_DIFF = {r['subtype_diff']}")
        definition = f"CREATE TYPE {name} AS RANGE ({', '.join(options)})"
    else:
        parts = [f"CREATE DOMAIN {name} AS {r['base_type']}"]
        if r["collation"]:
            parts.append(f"COLLATE {r['collation']}")
        if r["default"] is not None:
            parts.append(f"DEFAULT {r['default']}")
        if r["not_null"]:
            parts.append("NOT NULL")
        parts.extend(r["constraints"] or ())
        definition = " ".join(parts)
    return UserType(
        r["schema"],
        r["name"],
        kind,
        definition,
        labels,
        r["comment"],
        attrs(
            depends_on=depends_on,
            unvalidated=tuple(r["unvalidated_constraints"] or ()),
            # The parts a diff alters in place (ALTER DOMAIN, ALTER TYPE ... ATTRIBUTE).
            attributes=tuple(r["attributes"] or ()) if kind == "composite" else None,
            base_type=r["base_type"] if kind == "domain" else None,
            collation=r["collation"] if kind == "domain" else None,
            default=r["default"] if kind == "domain" else None,
            not_null=bool(r["not_null"]) if kind == "domain" else None,
            constraints=_named_constraints(r["constraints"]) if kind == "domain" else None,
        ),
    )


def _named_constraints(texts: list[str] | None) -> tuple[tuple[str, str], ...]:
    """("name", "CHECK (...)") from "CONSTRAINT name CHECK (...)" as the catalog query prints."""
    out = []
    for text in texts or ():
        match = re.match(r'CONSTRAINT ("(?:[^"]|"")*"|\S+) (.*)$', text, re.S)
        if match:
            name = match[1]
            if name.startswith('"'):
                name = name[1:-1].replace('""', '"')
            out.append((name, match[2]))
    return tuple(out)


def _privileges(
    records: list[dict[str, Any]],
) -> tuple[tuple[Privilege, ...], tuple[Privilege, ...]]:
    """GRANT/REVOKE statements (privileges of one grantee on one object merged) and owners."""
    merged: dict[tuple[str, str, str, str, str, str | None, bool], list[str]] = defaultdict(list)
    revokes, owners = [], []
    for r in records:
        where = (r["schema_name"], r["object_name"])
        if r["what"] == "owner":
            owners.append(Privilege(*where, f"ALTER {r['kind']} {r['name']} OWNER TO {r['role']}"))
        elif r["what"] == "revoke":
            revokes.append(
                Privilege(*where, f"REVOKE EXECUTE ON {r['kind']} {r['name']} FROM PUBLIC")
            )
        else:
            key = (*where, r["kind"], r["name"], r["role"], r["columns"], r["grantable"])
            merged[key].append(r["privilege"])
    grants = []
    for (schema, obj, kind, name, role, column, grantable), privileges in sorted(
        merged.items(), key=lambda item: tuple(str(v) for v in item[0])
    ):
        listed = ", ".join(sorted(privileges))
        if column:
            listed = ", ".join(f"{p} ({column})" for p in sorted(privileges))
        option = " WITH GRANT OPTION" if grantable else ""
        grants.append(Privilege(schema, obj, f"GRANT {listed} ON {kind} {name} TO {role}{option}"))
    return tuple(grants + revokes), tuple(owners)


# Catalog estimates, not counts: reading them is instant whatever the table's size.
_TABLE_SIZES = """
SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
"""


def table_sizes(conn: Connection) -> dict[str, tuple[int, int | None]]:
    """{table: (rows, bytes)}; reltuples is -1 for a table never vacuumed or analyzed."""
    return {str(n): (int(r), int(b)) for n, r, b in conn.query(_TABLE_SIZES)}
