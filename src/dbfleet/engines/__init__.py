"""Database engines, one vertical slice each; `connect` picks the slice from the URL."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbfleet.dburl import DatabaseUrl
    from dbfleet.engines.base import Connection, Dialect

# Engine name -> module; imported only when used, so that drivers load lazily.
_MODULES = {
    "postgresql": "dbfleet.engines.postgres.driver",
    "sqlite": "dbfleet.engines.sqlite.driver",
    "mysql": "dbfleet.engines.mysql.driver",
}


def dialect_for(engine: str) -> Dialect:
    """The Dialect of an engine by name ("postgresql", "sqlite", "mysql")."""
    module = _MODULES[engine].replace(".driver", ".dialect")
    return import_module(module).DIALECT  # type: ignore[no-any-return]


def connect(url: DatabaseUrl, *, create: bool = True) -> Connection:
    """Open a connection to `url`. With create=False a missing SQLite file reads as empty."""
    return import_module(_MODULES[url.engine]).connect(url, create=create)  # type: ignore[no-any-return]
