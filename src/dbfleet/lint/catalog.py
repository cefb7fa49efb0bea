"""What a live environment tells lint: its tables with rows and bytes, and its history."""

from __future__ import annotations

from collections.abc import Callable

from dbfleet.engines.base import Connection
from dbfleet.lint.schema import TableSize

# Catalog estimates, not counts: reading them is instant whatever the table's size.
_POSTGRES = """
SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
"""
_MYSQL = """
SELECT table_name, table_rows, data_length + index_length FROM information_schema.tables
WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
"""


def _postgres(conn: Connection) -> dict[str, TableSize]:
    # reltuples is -1 for a table never vacuumed or analyzed: its row count is unknown.
    return {str(n): TableSize(int(r), int(b)) for n, r, b in conn.query(_POSTGRES)}


def _mysql(conn: Connection) -> dict[str, TableSize]:
    return {
        str(n).lower(): TableSize(int(r or 0), int(b) if b is not None else None)
        for n, r, b in conn.query(_MYSQL)
    }


def _sqlite(conn: Connection) -> dict[str, TableSize]:
    names = conn.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    sizes = {}
    for (name,) in names:
        quoted = '"' + str(name).replace('"', '""') + '"'
        sizes[str(name).lower()] = TableSize(
            int(conn.query(f"SELECT count(*) FROM {quoted}")[0][0])
        )
    return sizes


# Engine name -> how to read its table sizes (catalog queries are engine data).
SIZES: dict[str, Callable[[Connection], dict[str, TableSize]]] = {
    "postgresql": _postgres,
    "mysql": _mysql,
    "sqlite": _sqlite,
}


def table_sizes(conn: Connection) -> dict[str, TableSize]:
    return SIZES[conn.url.engine](conn)
