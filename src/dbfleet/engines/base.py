"""The Engine protocol: what every database engine slice provides, and the data it exchanges.

An engine is one vertical slice (connect, lock, keep the history table, split scripts). Code
above the engines talks to a `Connection` and its `Dialect`, never builds engine SQL itself.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from dbfleet.dburl import DatabaseUrl
from dbfleet.errors import DbfleetError


@dataclass(frozen=True)
class Statement:
    """One SQL statement cut from a script, with where it starts in that script.

    `text` is the statement without its terminating delimiter (";" or a MySQL DELIMITER),
    stripped of surrounding whitespace; leading comments stay part of it. `line` is the 1-based
    line of the script on which the statement's first non-blank, non-comment character stands.
    """

    text: str
    line: int


def cut_statements(
    script: str,
    skip_trivia: Callable[[str, int], int],
    scan: Callable[[str, int], tuple[int, int]],
) -> list[Statement]:
    """The loop every splitter shares: skip blanks and comments, drop empty statements, count
    lines; `scan(script, start)` gives where the statement's code ends and where the next
    one may begin."""
    script = script.removeprefix("\ufeff")
    statements: list[Statement] = []
    n = len(script)
    pos = 0
    line = 1
    counted = 0  # `line` is the line number of index `counted`
    while pos < n:
        first = skip_trivia(script, pos)
        if first >= n:
            break
        if script[first] == ";":  # an empty statement, e.g. ";;"
            pos = first + 1
            continue
        code_end, after = scan(script, first)
        line += script.count("\n", counted, first)
        counted = first
        statements.append(Statement(script[pos:code_end].strip(), line))
        pos = after
    return statements


@dataclass(frozen=True)
class HistoryRow:
    """One row of the history table: something dbfleet did to this database, in rank order."""

    installed_rank: int
    version: str | None
    description: str
    type: str
    script: str
    checksum: str | None
    installed_by: str
    installed_on: datetime | str | None
    execution_time: int
    success: bool


@dataclass(frozen=True)
class NewHistoryRow:
    """A row about to be written; rank and time are filled in by the database."""

    version: str | None
    description: str
    type: str
    script: str
    checksum: str | None
    installed_by: str
    execution_time: int
    success: bool


@dataclass(frozen=True)
class PartitionChange:
    """One change to a range-partitioned table `schema.table` (partition maintenance).

    `action` "create": a partition named `partition` for the days [start, end).
    `action` "detach" or "drop": retire `partition`, whose range ended on `end`.
    """

    action: str
    schema: str
    table: str
    partition: str
    start: date | None
    end: date | None


class StatementError(DbfleetError):
    """The server rejected a statement. `position` is the 1-based character offset it named."""

    def __init__(self, message: str, position: int | None = None, sqlstate: str | None = None):
        super().__init__(message)
        self.position = position
        self.sqlstate = sqlstate
        self.index = 0  # which of several statements sent together failed


HISTORY_COLUMNS = (
    "installed_rank",
    "version",
    "description",
    "type",
    "script",
    "checksum",
    "installed_by",
    "installed_on",
    "execution_time",
    "success",
)


class Dialect:
    """Engine-specific SQL as data and small overrides; the base is the SQL standard."""

    name: ClassVar[str] = "standard"
    display_name: ClassVar[str] = "SQL"
    transactional_ddl: ClassVar[bool] = True
    identifier_quote: ClassVar[str] = '"'
    rank_column: ClassVar[str] = "INTEGER PRIMARY KEY"
    timestamp_column: ClassVar[str] = "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
    boolean_column: ClassVar[str] = "BOOLEAN NOT NULL"
    true_literal: ClassVar[str] = "TRUE"
    false_literal: ClassVar[str] = "FALSE"
    backslash_escapes: ClassVar[bool] = False
    begin_statement: ClassVar[str] = "BEGIN"
    # Statements that tune a connection used as a small, concurrently written store (dbfleet's
    # state store), sent once after connecting. Each is run with Connection.query, so it may
    # return a row (SQLite's PRAGMA journal_mode does), which is ignored.
    store_session: ClassVar[tuple[str, ...]] = ()
    # Facts lint needs: the settings that bound a lock wait and a statement's run time, the
    # longest identifier the engine keeps (None: no limit), the comment syntax (block comments
    # nest; "#" starts a comment) and whether the catalog records which views use a table.
    lock_timeout_settings: ClassVar[frozenset[str]] = frozenset()
    statement_timeout_settings: ClassVar[frozenset[str]] = frozenset()
    max_identifier: ClassVar[int | None] = None
    nested_block_comments: ClassVar[bool] = False
    hash_comments: ClassVar[bool] = False
    view_dependencies: ClassVar[bool] = False
    # Whitespace and comments that may open a statement (for mapping error positions to lines).
    leading_noise: ClassVar[re.Pattern[str]] = re.compile(
        r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S
    )

    def quote_ident(self, name: str) -> str:
        q = self.identifier_quote
        return q + name.replace(q, q + q) + q

    def quote_literal(self, value: str | int | bool | None) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.true_literal if value else self.false_literal
        if isinstance(value, int):
            return str(value)
        text = value.replace("'", "''")
        if self.backslash_escapes:
            text = text.replace("\\", "\\\\")
        return f"'{text}'"

    def qualified(self, table: str, schema: str | None) -> str:
        name = self.quote_ident(table)
        return f"{self.quote_ident(schema)}.{name}" if schema else name

    def split(self, script: str) -> list[Statement]:
        raise NotImplementedError

    def requires_no_transaction(self, statement: Statement) -> bool:
        """True when the engine refuses to run `statement` inside a transaction."""
        return False

    def render_statement(self, sql: str) -> str:
        """A statement as it is written in a script that a client runs (the dry-run output)."""
        return sql + ";"

    def error_line(self, statement: Statement, position: int | None) -> int:
        """The script line of a server error at 1-based character `position` of `statement`."""
        if not position:
            return statement.line
        match = self.leading_noise.match(statement.text)
        lead = len(match[0]) if match else 0
        return statement.line + statement.text.count("\n", lead, max(lead, position - 1))

    def summary(self, statement: Statement) -> str:
        """The statement shortened to one line for an error message."""
        match = self.leading_noise.match(statement.text)
        text = " ".join(statement.text[len(match[0]) if match else 0 :].split())
        return text if len(text) <= 80 else text[:77] + "..."

    def declares_no_transaction(self, script: str) -> bool:
        """True when the script's first line is the `-- dbfleet:no-transaction` directive."""
        for line in script.lstrip("\ufeff").splitlines():
            if line.strip():
                return line.strip().lower().replace(" ", "") == "--dbfleet:no-transaction"
        return False

    def create_database(self, name: str) -> str:
        return f"CREATE DATABASE {self.quote_ident(name)}"

    def drop_database(self, name: str) -> str:
        return f"DROP DATABASE IF EXISTS {self.quote_ident(name)}"

    # --- the history table ------------------------------------------------------------------

    def create_history_table(self, table: str, schema: str | None) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.qualified(table, schema)} (\n"
            f"    installed_rank {self.rank_column},\n"
            "    version VARCHAR(50),\n"
            "    description VARCHAR(200) NOT NULL,\n"
            "    type VARCHAR(20) NOT NULL,\n"
            "    script VARCHAR(1000) NOT NULL,\n"
            "    checksum VARCHAR(64),\n"
            "    installed_by VARCHAR(100) NOT NULL,\n"
            f"    installed_on {self.timestamp_column},\n"
            "    execution_time INTEGER NOT NULL,\n"
            f"    success {self.boolean_column}\n"
            ")"
        ]

    def select_history(self, table: str, schema: str | None) -> str:
        return (
            f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {self.qualified(table, schema)} "
            "ORDER BY installed_rank"
        )

    def insert_history(self, table: str, schema: str | None, row: NewHistoryRow) -> str:
        values = ", ".join(
            self.quote_literal(v)
            for v in (
                row.version,
                row.description,
                row.type,
                row.script,
                row.checksum,
                row.installed_by,
                row.execution_time,
                row.success,
            )
        )
        return (
            f"INSERT INTO {self.qualified(table, schema)} (version, description, type, script, "
            f"checksum, installed_by, execution_time, success) VALUES ({values})"
        )

    def _started(self, row: NewHistoryRow) -> str:
        """The condition that finds a row written as started (success false) for `row`."""
        q = self.quote_literal
        return (
            f"type = {q(row.type)} AND script = {q(row.script)} AND checksum = {q(row.checksum)} "
            f"AND success = {self.false_literal}"
        )

    def finish_history(self, table: str, schema: str | None, row: NewHistoryRow) -> str:
        """Mark the started row of a migration that ran outside a transaction as succeeded."""
        return (
            f"UPDATE {self.qualified(table, schema)} SET success = {self.true_literal}, "
            f"execution_time = {row.execution_time} WHERE {self._started(row)}"
        )

    def forget_history(self, table: str, schema: str | None, row: NewHistoryRow) -> str:
        """Remove the started row of a migration of which nothing was applied."""
        return f"DELETE FROM {self.qualified(table, schema)} WHERE {self._started(row)}"

    def delete_failed_history(self, table: str, schema: str | None) -> str:
        return f"DELETE FROM {self.qualified(table, schema)} WHERE success = {self.false_literal}"

    def update_history_checksum(
        self, table: str, schema: str | None, rank: int, checksum: str, description: str
    ) -> str:
        return (
            f"UPDATE {self.qualified(table, schema)} "
            f"SET checksum = {self.quote_literal(checksum)}, "
            f"description = {self.quote_literal(description)} "
            f"WHERE installed_rank = {rank}"
        )


class Connection(ABC):
    """One open connection to a target, in autocommit mode; transactions are explicit."""

    dialect: Dialect

    def __init__(self, url: DatabaseUrl) -> None:
        self.url = url

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one statement; raise StatementError with the server's message."""

    def run_in_transaction(self, statements: Sequence[str]) -> None:
        """Run `statements` in order inside the open transaction.

        A failure raises StatementError whose `index` names the statement and whose `position`
        is relative to it. Engines may send them together (fewer round trips), as long as the
        outcome is the same as one by one.
        """
        for index, sql in enumerate(statements):
            try:
                self.execute(sql)
            except StatementError as exc:
                exc.index = index
                raise

    @abstractmethod
    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows."""

    @abstractmethod
    def records(self, sql: str) -> list[dict[str, Any]]:
        """Run one query and return its rows as {column name: value} (catalog queries)."""

    def begin(self) -> None:
        self.execute(self.dialect.begin_statement)

    def commit(self) -> None:
        self.execute("COMMIT")

    def commit_with(self, sql: str) -> None:
        """Run `sql` as the open transaction's last statement, then commit.

        A failure raises StatementError with `index` 0 when `sql` failed (the transaction is
        still open, to be rolled back) and 1 when the commit did. Engines may send both in one
        round trip.
        """
        self.execute(sql)
        try:
            self.commit()
        except StatementError as exc:
            exc.index = 1
            raise

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    @contextmanager
    def transaction(self, enabled: bool = True) -> Iterator[None]:
        """BEGIN ... COMMIT around the block, ROLLBACK when it raises; nothing if not enabled."""
        if not enabled:
            yield
            return
        self.begin()
        try:
            yield
        except BaseException:
            with suppress(DbfleetError):  # a broken connection has rolled back already
                self.rollback()
            raise
        self.commit()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def cancel(self) -> None:
        """Stop what this connection is running, from another thread (a timeout's timer).

        The running statement fails with the server's error in the thread that runs it; the
        connection's transaction is then rolled back as for any failed statement. Safe to call
        when nothing runs (it does nothing, or at worst makes the next statement fail) and after
        the connection is closed.
        """

    def lock_scope(self) -> str:
        """What identifies this database on its server, for naming the run lock."""
        return self.url.database

    @abstractmethod
    def current_user(self) -> str:
        """Who the history table records as having installed a migration."""

    @abstractmethod
    def default_schema(self) -> str | None:
        """Where unqualified tables go (PostgreSQL schema, MySQL database; None for SQLite)."""

    @abstractmethod
    def table_exists(self, table: str, schema: str | None) -> bool: ...

    def ensure_schema(self, schema: str | None) -> list[str]:
        """Statements that create the history table's schema if it is missing."""
        return []

    @abstractmethod
    @contextmanager
    def lock(self, key: str, wait_seconds: float) -> Iterator[None]:
        """Hold the engine's exclusive lock for this target (`key` names it) for a whole run."""
        yield  # pragma: no cover

    def history(self, table: str, schema: str | None) -> Sequence[HistoryRow]:
        """Every row of the history table (which must exist), in rank order."""
        try:
            records = self.query(self.dialect.select_history(table, schema))
        except StatementError as exc:
            raise DbfleetError(
                f"{self.dialect.qualified(table, schema)} exists but is not a dbfleet history "
                f"table ({exc.message})",
                hint="set [migrations] history_table to another name",
            ) from None
        return [
            HistoryRow(
                installed_rank=int(r[0]),
                version=r[1],
                description=r[2],
                type=r[3],
                script=r[4],
                checksum=r[5],
                installed_by=r[6],
                installed_on=r[7],
                execution_time=int(r[8]),
                success=bool(r[9]),
            )
            for r in records
        ]

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def lock_number(key: str) -> int:
    """A stable signed 64-bit number for a lock name (PostgreSQL advisory locks take bigints)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
