"""PostgreSQL declarative range partitions: the partitions a table has, and the DDL that
creates, detaches or drops one. The planning (which periods, which names) is engine-neutral
and lives in dbfleet.fleet.partitions."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from importlib.resources import files

from dbfleet.engines.base import Connection, Dialect, PartitionChange
from dbfleet.errors import DbfleetError

_BOUND = re.compile(r"FROM \('(?P<low>[^']+)'\) TO \('(?P<high>[^']+)'\)")


@cache
def _catalog() -> str:
    return (files("dbfleet.engines.postgres") / "catalog" / "partitions.sql").read_text("utf-8")


def upper_bound(expression: str) -> date | None:
    """The day a range partition ends, from its bound expression; None for the DEFAULT
    partition or bounds that are not dates."""
    match = _BOUND.search(expression)
    if not match:
        return None
    try:
        return datetime.fromisoformat(match["high"].split(" ")[0]).date()
    except ValueError:
        return None


def existing(conn: Connection, table: str, schema: str, column: str) -> dict[str, date | None]:
    """The partitions of `schema.table`: {name: the day its range ends, None if not a date}."""
    q = conn.dialect.quote_literal
    rows = conn.query(_catalog().format(schema=q(schema), table=q(table)))
    if not rows:
        raise DbfleetError(f"table {schema}.{table} does not exist")
    if rows[0][0] != "p":
        raise DbfleetError(
            f"table {schema}.{table} is not partitioned",
            hint=f"create it with PARTITION BY RANGE ({column})",
        )
    return {str(name): upper_bound(str(bound)) for _, name, bound in rows if name is not None}


def statement(dialect: Dialect, change: PartitionChange) -> str:
    """The DDL that makes `change`."""
    q = dialect.quote_ident
    parent = f"{q(change.schema)}.{q(change.table)}"
    partition = f"{q(change.schema)}.{q(change.partition)}"
    if change.action == "create" and change.start is not None and change.end is not None:
        return (
            f"CREATE TABLE IF NOT EXISTS {partition} PARTITION OF {parent} "
            f"FOR VALUES FROM ('{change.start.isoformat()}') TO ('{change.end.isoformat()}')"
        )
    if change.action == "drop":
        return f"DROP TABLE {partition}"
    if change.action == "detach":
        return f"ALTER TABLE {parent} DETACH PARTITION {partition}"
    raise ValueError(f"not a partition change: {change}")
