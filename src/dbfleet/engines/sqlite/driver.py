"""SQLite connection and lock (a lock file beside the database, held for a whole run)."""

from __future__ import annotations

import fcntl
import getpass
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from dbfleet.dburl import DatabaseUrl
from dbfleet.engines.base import Connection, StatementError
from dbfleet.engines.sqlite.dialect import DIALECT
from dbfleet.errors import ConnectError, LockTimeout


class SqliteConnection(Connection):
    dialect = DIALECT

    def __init__(self, url: DatabaseUrl, *, create: bool) -> None:
        super().__init__(url)
        self.path = url.database
        self.in_memory = self.path == ":memory:"
        target = self.path
        if not self.in_memory and not create and not Path(self.path).exists():
            target = ":memory:"  # a database that does not exist yet reads as an empty one
            self.in_memory = True
        elif not self.in_memory and create:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.raw = sqlite3.connect(target, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise ConnectError(
                f"cannot open SQLite database {self.path}: {exc}",
                hint="check that the folder exists and is writable",
            ) from None

    def execute(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
        except sqlite3.Error as exc:
            raise StatementError(
                str(exc), sqlstate=getattr(exc, "sqlite_errorname", None)
            ) from None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self.raw.execute(sql).fetchall()
        except sqlite3.Error as exc:
            raise StatementError(str(exc)) from None

    def records(self, sql: str) -> list[dict[str, Any]]:
        try:
            cursor = self.raw.execute(sql)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise StatementError(str(exc)) from None

    def close(self) -> None:
        self.raw.close()

    def cancel(self) -> None:
        with suppress(sqlite3.ProgrammingError):  # closed already
            self.raw.interrupt()

    def current_user(self) -> str:
        try:
            return getpass.getuser()
        except Exception:  # no user name in the environment (some containers)
            return str(os.getuid())

    def default_schema(self) -> str | None:
        return None

    def lock_scope(self) -> str:
        return os.path.realpath(self.path)

    def table_exists(self, table: str, schema: str | None) -> bool:
        rows = self.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
            + self.dialect.quote_literal(table)
        )
        return bool(rows)

    @contextmanager
    def lock(self, key: str, wait_seconds: float) -> Iterator[None]:
        if self.in_memory:
            yield
            return
        lock_path = os.path.realpath(self.path) + ".dbfleet-lock"
        with open(lock_path, "a+") as handle:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"another dbfleet run holds the lock on {self.path} "
                            f"(waited {wait_seconds:g} s)",
                            hint="wait for it to finish, or raise [migrations] lock_wait",
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def connect(url: DatabaseUrl, *, create: bool = True) -> SqliteConnection:
    return SqliteConnection(url, create=create)
