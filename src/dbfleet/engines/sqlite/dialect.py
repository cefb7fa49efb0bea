"""SQLite as data: quoting, history-table SQL, script splitting (no driver, no I/O)."""

from __future__ import annotations

import re
from typing import ClassVar

from dbfleet.engines.base import Dialect, Statement

# SQLite's keywords (sqlite3_keyword_name): names that must be quoted to be names.
_KEYWORDS = frozenset(
    """
    abort action add after all alter always analyze and as asc attach autoincrement before
    begin between by cascade case cast check collate column commit conflict constraint
    create cross current current_date current_time current_timestamp database default
    deferrable deferred delete desc detach distinct do drop each else end escape except
    exclude exclusive exists explain fail filter first following for foreign from full
    generated glob group groups having if ignore immediate in index indexed initially
    inner insert instead intersect into is isnull join key last left like limit match
    materialized natural no not nothing notnull null nulls of offset on or order others
    outer over partition plan pragma preceding primary query raise range recursive
    references regexp reindex release rename replace restrict returning right rollback row
    rows savepoint select set table temp temporary then ties to transaction trigger
    unbounded union unique update using vacuum values view virtual when where window with
    without
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SqliteDialect(Dialect):
    display_name: ClassVar[str] = "SQLite"
    name: ClassVar[str] = "sqlite"
    rank_column: ClassVar[str] = "INTEGER PRIMARY KEY AUTOINCREMENT"
    timestamp_column: ClassVar[str] = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))"
    boolean_column: ClassVar[str] = "INTEGER NOT NULL"
    true_literal: ClassVar[str] = "1"
    false_literal: ClassVar[str] = "0"
    # IMMEDIATE takes the write lock at once, so two writers fail fast instead of deadlocking.
    begin_statement: ClassVar[str] = "BEGIN IMMEDIATE"
    store_session: ClassVar[tuple[str, ...]] = (
        # WAL: readers do not block the writer; writers queue on BEGIN IMMEDIATE.
        "PRAGMA journal_mode=WAL",
        "PRAGMA busy_timeout=30000",
        # In WAL mode NORMAL survives a crash or kill -9 of dbfleet (only a power loss may
        # drop the last commits) and spares an fsync per ledger write.
        "PRAGMA synchronous=NORMAL",
    )

    def quote_ident(self, name: str) -> str:
        """Quote only when needed, so rendered DDL reads like hand-written DDL."""
        if _PLAIN.match(name) and name.lower() not in _KEYWORDS:
            return name
        return super().quote_ident(name)

    def qualified(self, table: str, schema: str | None) -> str:
        # SQLite's "schemas" are attached databases; the history table lives in the main one.
        return self.quote_ident(table)

    def split(self, script: str) -> list[Statement]:
        from dbfleet.engines.sqlite.split import split

        return split(script)


DIALECT = SqliteDialect()
