"""PostgreSQL connections (psycopg 3, or libpq over ctypes) and the session-level advisory lock.

Both clients share everything but the wire. `PostgresConnection` (psycopg) serves every
command; `LibpqConnection` (engines/postgres/libpq.py) serves the migration commands, which ask
for it with `connect(url, light=True)`: it starts ~0.15 s sooner, because importing psycopg is
most of a no-op `dbfleet migrate`. DBFLEET_PG_DRIVER=psycopg|libpq picks the migration
commands' client; by default it is libpq when one can be loaded, else psycopg.
"""

from __future__ import annotations

import os
import time
from abc import abstractmethod
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from dbfleet.dburl import DatabaseUrl
from dbfleet.engines.base import Connection, StatementError, lock_number
from dbfleet.engines.postgres.dialect import DIALECT
from dbfleet.errors import ConfigError, ConnectError, LockTimeout
from dbfleet.secrets import redact

if TYPE_CHECKING:
    import psycopg

    from dbfleet.engines.postgres import libpq

_BEGIN = "BEGIN;\n"


class PostgresSession(Connection):
    """What both PostgreSQL clients share: transactions, batches, the lock, catalog lookups.

    A client provides the wire: `_execute`, `_query`, `_records` (each raising StatementError
    whose position counts in the text sent), `_idle`, `_usable`, `close` and `cancel`.
    """

    dialect = DIALECT

    def __init__(self, url: DatabaseUrl) -> None:
        super().__init__(url)
        self._user: str | None = None
        self._begin_pending = False
        self._cancelled = False  # cancel() was called during run_in_transaction

    @abstractmethod
    def _execute(self, text: str) -> None:
        """Run `text` (one or more statements)."""

    @abstractmethod
    def _query(self, text: str) -> list[tuple[Any, ...]]:
        """Run `text` and return its rows."""

    @abstractmethod
    def _records(self, text: str) -> list[dict[str, Any]]:
        """Run `text` and return its rows as {column: value}."""

    @abstractmethod
    def _idle(self) -> bool:
        """True when no transaction is open on the session."""

    @abstractmethod
    def _usable(self) -> bool:
        """True when the session is open and not broken."""

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
            self._execute(text)
        except StatementError as error:
            if error.position is not None:
                error.position = error.position - offset if error.position > offset else None
            raise

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
            error.index = 1 if self._idle() else 0
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
        return self._query(sql)

    def records(self, sql: str) -> list[dict[str, Any]]:
        if self._begin_pending:
            self.execute(self._take_begin())
        return self._records(sql)

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
            if self._usable():
                if not self._idle():
                    self._execute("ROLLBACK")
                self._execute(f"SELECT pg_advisory_unlock({number})")


class PostgresConnection(PostgresSession):
    """The psycopg 3 client: every command but the migration path's (see LibpqConnection)."""

    def __init__(self, url: DatabaseUrl) -> None:
        import psycopg

        super().__init__(url)
        try:
            self.raw = psycopg.connect(
                url.full, autocommit=True, connect_timeout=10, application_name="dbfleet"
            )
        except psycopg.OperationalError as exc:
            raise ConnectError(_connect_message(url, str(exc))) from None
        except psycopg.ProgrammingError as exc:  # a bad option in the URL's query string
            raise ConnectError(f"cannot connect to {url.display}: {redact(str(exc))}") from None
        self._cursor = self.raw.cursor()  # one cursor for the session: less work per statement

    def _execute(self, text: str) -> None:
        import psycopg

        try:
            self._cursor.execute(text.encode(), prepare=False)
        except psycopg.Error as exc:
            raise _statement_error(exc) from None

    def _query(self, text: str) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            return self._cursor.execute(text.encode(), prepare=False).fetchall()
        except psycopg.Error as exc:
            raise _statement_error(exc) from None

    def _records(self, text: str) -> list[dict[str, Any]]:
        import psycopg
        from psycopg.rows import dict_row

        try:
            with self.raw.cursor(row_factory=dict_row) as cursor:
                return cursor.execute(text.encode(), prepare=False).fetchall()
        except psycopg.Error as exc:
            raise _statement_error(exc) from None

    def _idle(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status == TransactionStatus.IDLE

    def _usable(self) -> bool:
        return not self.raw.closed and not self.raw.broken

    def close(self) -> None:
        self.raw.close()

    def cancel(self) -> None:
        import psycopg

        if self.raw.closed:
            return
        # cancel_safe (psycopg >= 3.2) does not block the event loop and honours
        # connect_timeout; cancel() is the older, blocking form.
        stop = getattr(self.raw, "cancel_safe", None) or self.raw.cancel
        self._cancelled = True
        with suppress(psycopg.Error):  # the server is gone: nothing left to stop
            stop()


class LibpqConnection(PostgresSession):
    """The light client (ctypes over libpq, no psycopg import) of the migration commands.

    Results come back as text converted by type (bool, integers, floats, numeric, dates and
    timestamps); other types, arrays included, come back as the server's text.
    """

    def __init__(self, url: DatabaseUrl) -> None:
        from dbfleet.engines.postgres import libpq

        super().__init__(url)
        self._libpq = libpq
        try:
            self.raw = libpq.Session(url.full)
        except libpq.ConnectFailed as exc:
            raise ConnectError(_connect_message(url, str(exc))) from None

    def _run(self, text: str) -> libpq.Result:
        try:
            return self.raw.run(text)
        except self._libpq.ServerError as exc:
            message = exc.message + (f" ({exc.detail})" if exc.detail else "")
            raise StatementError(
                redact(message), position=exc.position, sqlstate=exc.sqlstate
            ) from None

    def _execute(self, text: str) -> None:
        self._run(text)

    def _query(self, text: str) -> list[tuple[Any, ...]]:
        return self._run(text).rows

    def _records(self, text: str) -> list[dict[str, Any]]:
        result = self._run(text)
        return [dict(zip(result.names, row, strict=True)) for row in result.rows]

    def _idle(self) -> bool:
        return self.raw.transaction_status() == self._libpq.TRANS_IDLE

    def _usable(self) -> bool:
        return not self.raw.closed

    def close(self) -> None:
        self.raw.close()

    def cancel(self) -> None:
        self._cancelled = True
        self.raw.cancel()


def _statement_error(exc: psycopg.Error) -> StatementError:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    if diag.message_detail:
        message += f" ({diag.message_detail})"
    position = int(diag.statement_position) if diag.statement_position else None
    return StatementError(redact(message), position=position, sqlstate=diag.sqlstate)


def _connect_message(url: DatabaseUrl, error: str) -> str:
    text = redact(error).strip()
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


def connect_light(url: DatabaseUrl, *, create: bool = True) -> PostgresSession:
    """The migration commands' client: libpq over ctypes when it loads, else psycopg."""
    choice = os.environ.get("DBFLEET_PG_DRIVER", "").strip().lower()
    if choice not in ("", "libpq", "psycopg"):
        raise ConfigError(
            f"DBFLEET_PG_DRIVER={choice!r} is not a PostgreSQL client dbfleet knows",
            hint="set it to libpq or psycopg, or unset it",
        )
    if choice == "psycopg":
        return PostgresConnection(url)
    from dbfleet.engines.postgres import libpq

    if libpq.available():
        return LibpqConnection(url)
    if choice == "libpq":
        raise ConnectError(
            "DBFLEET_PG_DRIVER=libpq, but no libpq could be loaded",
            hint="install psycopg[binary] or the system's libpq (libpq5), or unset it",
        )
    return PostgresConnection(url)
