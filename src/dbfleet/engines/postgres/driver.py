"""PostgreSQL connection (psycopg 3) and session-level advisory lock."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg

from dbfleet.dburl import DatabaseUrl
from dbfleet.engines.base import Connection, StatementError, lock_number
from dbfleet.engines.postgres.dialect import DIALECT
from dbfleet.errors import ConnectError, LockTimeout
from dbfleet.secrets import redact

_BEGIN = "BEGIN;\n"


class PostgresConnection(Connection):
    dialect = DIALECT

    def __init__(self, url: DatabaseUrl) -> None:
        super().__init__(url)
        try:
            self.raw = psycopg.connect(
                url.full, autocommit=True, connect_timeout=10, application_name="dbfleet"
            )
        except psycopg.OperationalError as exc:
            raise ConnectError(_connect_message(url, exc)) from None
        except psycopg.ProgrammingError as exc:  # a bad option in the URL's query string
            raise ConnectError(f"cannot connect to {url.display}: {redact(str(exc))}") from None
        self._cursor = self.raw.cursor()  # one cursor for the session: less work per statement
        self._user: str | None = None
        self._begin_pending = False
        self._cancelled = False  # cancel() was called during run_in_transaction

    # A transaction's BEGIN is not sent on its own: it travels with the transaction's first
    # statement, and a migration's history row travels with its COMMIT. A migration is then two
    # round trips (BEGIN + its statements, INSERT + COMMIT) instead of four.

    def begin(self) -> None:
        self._begin_pending = True

    def commit(self) -> None:
        if self._take_begin():  # nothing ran in the transaction: there is nothing to commit
            return
        self.execute("COMMIT")

    def rollback(self) -> None:
        if self._take_begin():
            return
        self.execute("ROLLBACK")

    def _take_begin(self) -> str:
        if self._begin_pending:
            self._begin_pending = False
            return _BEGIN
        return ""

    def _send(self, text: str, offset: int = 0) -> None:
        """Run `text` (one or more statements); error positions become relative to `offset`."""
        try:
            self._cursor.execute(text.encode(), prepare=False)
        except psycopg.Error as exc:
            error = _statement_error(exc)
            if error.position is not None:
                error.position = error.position - offset if error.position > offset else None
            raise error from None

    def execute(self, sql: str) -> None:
        prefix = self._take_begin()
        self._send(prefix + sql, len(prefix))

    def commit_with(self, sql: str) -> None:
        prefix = self._take_begin()
        try:
            self._send(f"{prefix}{sql};\nCOMMIT", len(prefix))
        except StatementError as error:
            # The server stops at the first error: a transaction still open (and aborted) means
            # `sql` failed; a closed one means the COMMIT ran and failed (a deferred constraint).
            status = self.raw.info.transaction_status
            error.index = 1 if status == psycopg.pq.TransactionStatus.IDLE else 0
            raise

    def run_in_transaction(self, statements: Sequence[str]) -> None:
        # One round trip for a whole migration: the simple query protocol runs several
        # statements, stops at the first error and reports its position in the whole text,
        # which maps back to the statement. An error without a position is located by
        # replaying from the start of the transaction (or a savepoint) one statement at a time.
        if len(statements) < 2:
            super().run_in_transaction(statements)
            return
        self._cancelled = False
        begin = self._take_begin()
        text = begin or "SAVEPOINT dbfleet_batch;\n"
        starts = []
        for sql in statements:
            starts.append(len(text))
            text += sql + ";\n"
        if not begin:
            text += "RELEASE SAVEPOINT dbfleet_batch"
        try:
            self._send(text)
        except StatementError as error:
            if error.position and error.position > starts[0]:
                index = bisect_right(starts, error.position - 1) - 1
                error.index = index
                error.position -= starts[index]
                raise
            if self._cancelled:  # a replay would run the cancelled statement again, in full
                raise
            if begin:
                self.execute("ROLLBACK")
                self.begin()
            else:
                self.execute("ROLLBACK TO SAVEPOINT dbfleet_batch")
            super().run_in_transaction(statements)
            raise error from None  # the replay did not fail again: report what the server said

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self._begin_pending:
            self.execute(self._take_begin())
        try:
            return self._cursor.execute(sql.encode(), prepare=False).fetchall()
        except psycopg.Error as exc:
            raise _statement_error(exc) from None

    def records(self, sql: str) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        if self._begin_pending:
            self.execute(self._take_begin())
        try:
            with self.raw.cursor(row_factory=dict_row) as cursor:
                return cursor.execute(sql.encode(), prepare=False).fetchall()
        except psycopg.Error as exc:
            raise _statement_error(exc) from None

    def close(self) -> None:
        self.raw.close()

    def cancel(self) -> None:
        if self.raw.closed:
            return
        # cancel_safe (psycopg >= 3.2) does not block the event loop and honours
        # connect_timeout; cancel() is the older, blocking form.
        stop = getattr(self.raw, "cancel_safe", None) or self.raw.cancel
        self._cancelled = True
        with suppress(psycopg.Error):  # the server is gone: nothing left to stop
            stop()

    def current_user(self) -> str:
        if self._user is None:
            self._user = str(self.query("SELECT current_user")[0][0])
        return self._user

    def lock_scope(self) -> str:
        return str(self.query("SELECT current_database()")[0][0])

    def default_schema(self) -> str | None:
        return str(self.query("SELECT current_schema()")[0][0] or "public")

    def table_exists(self, table: str, schema: str | None) -> bool:
        name = self.dialect.qualified(table, schema)
        return (
            self.query(f"SELECT to_regclass({self.dialect.quote_literal(name)})")[0][0] is not None
        )

    def ensure_schema(self, schema: str | None) -> list[str]:
        if not schema:
            return []
        exists = self.query(
            "SELECT 1 FROM pg_namespace WHERE nspname = " + self.dialect.quote_literal(schema)
        )
        return [] if exists else [f"CREATE SCHEMA IF NOT EXISTS {self.dialect.quote_ident(schema)}"]

    @contextmanager
    def lock(self, key: str, wait_seconds: float) -> Iterator[None]:
        number = lock_number(key)
        deadline = time.monotonic() + wait_seconds
        while not self.query(f"SELECT pg_try_advisory_lock({number})")[0][0]:
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"another dbfleet run holds the lock on {self.url.display} "
                    f"(waited {wait_seconds:g} s)",
                    hint="wait for it to finish, or raise [migrations] lock_wait",
                )
            time.sleep(0.05)
        try:
            yield
        finally:
            self._begin_pending = False
            if not self.raw.closed and not self.raw.broken:
                if self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    self.raw.execute(b"ROLLBACK")
                self.raw.execute(f"SELECT pg_advisory_unlock({number})".encode())


def _statement_error(exc: psycopg.Error) -> StatementError:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    if diag.message_detail:
        message += f" ({diag.message_detail})"
    position = int(diag.statement_position) if diag.statement_position else None
    return StatementError(redact(message), position=position, sqlstate=diag.sqlstate)


def _connect_message(url: DatabaseUrl, exc: Exception) -> str:
    text = redact(str(exc)).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = lines[-1] if lines else "connection failed"
    detail = detail.removeprefix("FATAL:").strip()
    if "password authentication failed" in text or "no password supplied" in text:
        advice = "check the user and password in the URL"
    elif "does not exist" in text and "database" in text:
        advice = f"create the database first (createdb {url.database}) or fix the URL"
    elif "Connection refused" in text or "could not translate host" in text or "timeout" in text:
        advice = "check that the server is running and the host and port are right"
    else:
        advice = "check the URL and the server"
    return f"cannot connect to {url.display}: {detail} ({advice})"


def connect(url: DatabaseUrl, *, create: bool = True) -> PostgresConnection:
    return PostgresConnection(url)
