"""SQLite as data: quoting, history-table SQL, script splitting (no driver, no I/O)."""

from __future__ import annotations

from typing import ClassVar

from dbfleet.engines.base import Dialect, Statement


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

    def qualified(self, table: str, schema: str | None) -> str:
        # SQLite's "schemas" are attached databases; the history table lives in the main one.
        return self.quote_ident(table)

    def split(self, script: str) -> list[Statement]:
        from dbfleet.engines.sqlite.split import split

        return split(script)


DIALECT = SqliteDialect()
