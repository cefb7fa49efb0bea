"""Database engines, one vertical slice each; `connect` picks the slice from the URL."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import date

    from dbfleet.dburl import DatabaseUrl
    from dbfleet.engines.base import Connection, Dialect, PartitionChange
    from dbfleet.schema.model import Model

# Engine name -> package; each has the same modules (dialect, driver, split, inspect, render),
# imported only when used, so that drivers and parsers load lazily. Optional modules, for what
# only some engines have: partitions (range-partition maintenance).
_PACKAGES = {
    "postgresql": "dbfleet.engines.postgres",
    "sqlite": "dbfleet.engines.sqlite",
    "mysql": "dbfleet.engines.mysql",
}


def _module(engine: str, step: str) -> Any:
    return import_module(f"{_PACKAGES[engine]}.{step}")


def dialect_for(engine: str) -> Dialect:
    """The Dialect of an engine by name ("postgresql", "sqlite", "mysql")."""
    return _module(engine, "dialect").DIALECT  # type: ignore[no-any-return]


def connect(url: DatabaseUrl, *, create: bool = True, light: bool = False) -> Connection:
    """Open a connection to `url`. With create=False a missing SQLite file reads as empty.

    light=True asks for the engine's light client where its driver module has one
    (`connect_light`): the migration commands use it, as they need only simple queries and
    start sooner without a full driver's import (PostgreSQL: libpq over ctypes, no psycopg).
    """
    module = _module(url.engine, "driver")
    opener = getattr(module, "connect_light", None) if light else None
    return (opener or module.connect)(url, create=create)  # type: ignore[no-any-return]


def inspect(conn: Connection) -> Model:
    """The schema of the connected database as a Model."""
    return _module(conn.url.engine, "inspect").inspect(conn)  # type: ignore[no-any-return]


def table_sizes(conn: Connection) -> dict[str, tuple[int, int | None]]:
    """{table: (rows, bytes)} of the connected database's tables, from the catalog's estimates
    where it has them (instant whatever the size); rows is -1 when the engine does not know yet,
    bytes None when it does not say. Names are as lint compares them (lower case unless the
    engine keeps case)."""
    return _module(conn.url.engine, "inspect").table_sizes(conn)  # type: ignore[no-any-return]


def render(model: Model) -> str:
    """The model as one DDL script, in dependency order."""
    return _module(model.engine, "render").render(model)  # type: ignore[no-any-return]


def render_files(model: Model) -> dict[str, str]:
    """The model as one DDL file per object: {relative path: SQL}."""
    return _module(model.engine, "render").render_files(model)  # type: ignore[no-any-return]


def maintains_partitions(engine: str) -> bool:
    """True when the engine's slice has range-partition maintenance (engines/<e>/partitions.py)."""
    return find_spec(f"{_PACKAGES[engine]}.partitions") is not None


def existing_partitions(
    conn: Connection, table: str, schema: str, column: str
) -> dict[str, date | None]:
    """The partitions of a range-partitioned table: {name: the day its range ends, or None}.

    Raises DbfleetError when the table does not exist or is not partitioned.
    """
    module = _module(conn.url.engine, "partitions")
    return module.existing(conn, table, schema, column)  # type: ignore[no-any-return]


def partition_statement(dialect: Dialect, change: PartitionChange) -> str:
    """The engine's DDL for one partition change (create, detach, drop)."""
    return _module(dialect.name, "partitions").statement(dialect, change)  # type: ignore[no-any-return]
