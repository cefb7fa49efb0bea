"""What a live environment tells lint: its tables with rows and bytes (the engine's catalog)."""

from __future__ import annotations

from dbfleet.engines.base import Connection
from dbfleet.lint.schema import TableSize


def table_sizes(conn: Connection) -> dict[str, TableSize]:
    from dbfleet.engines import table_sizes as sizes

    return {name: TableSize(rows, size) for name, (rows, size) in sizes(conn).items()}
