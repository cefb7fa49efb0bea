"""A migration target: one open database connection, its history table and its run lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dbfleet.config import Environment, Project
from dbfleet.dburl import DatabaseUrl
from dbfleet.engines import connect
from dbfleet.engines.base import Connection, HistoryRow, NewHistoryRow
from dbfleet.migrate.files import MigrationSet
from dbfleet.migrate.state import TargetState, reconcile


class Target:
    """A database as migrations see it; the history table is always schema-qualified.

    Qualifying it (with the connection's schema when none is configured) keeps history writes
    right when a migration changes the session (`SET search_path`, `USE other_db`), and names
    the lock after what the server calls the table, not after how the URL was spelled.
    """

    def __init__(
        self, conn: Connection, *, table: str, schema: str | None, lock_wait: float
    ) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.table = table
        self.schema = schema if schema is not None else conn.default_schema()
        self.lock_wait = lock_wait

    @classmethod
    def open(
        cls,
        url: DatabaseUrl,
        *,
        table: str,
        schema: str | None = None,
        lock_wait: float = 600.0,
        create: bool = True,
        light: bool = True,
    ) -> Target:
        """Connect to `url`; light=False asks for the engine's full driver (see engines.connect)."""
        conn = connect(url, create=create, light=light)
        try:
            return cls(conn, table=table, schema=schema, lock_wait=lock_wait)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the engine's lock on this history table for the whole block."""
        key = f"{self.conn.lock_scope()}/{self.schema or ''}.{self.table}"
        with self.conn.lock(key, self.lock_wait):
            yield

    # --- the history table ------------------------------------------------------------------

    def history_exists(self) -> bool:
        return self.conn.table_exists(self.table, self.schema)

    def history(self) -> list[HistoryRow]:
        return list(self.conn.history(self.table, self.schema)) if self.history_exists() else []

    def history_setup_sql(self) -> list[str]:
        """Statements that create the history table (and its schema) when it is missing."""
        if self.history_exists():
            return []
        return self.conn.ensure_schema(self.schema) + self.dialect.create_history_table(
            self.table, self.schema
        )

    def ensure_history(self) -> None:
        for sql in self.history_setup_sql():
            self.conn.execute(sql)

    def state(self, files: MigrationSet) -> TargetState:
        exists = self.history_exists()
        rows = list(self.conn.history(self.table, self.schema)) if exists else []
        return reconcile(files, rows, history_exists=exists)

    def insert_sql(self, row: NewHistoryRow) -> str:
        return self.dialect.insert_history(self.table, self.schema, row)

    def finish_sql(self, row: NewHistoryRow) -> str:
        return self.dialect.finish_history(self.table, self.schema, row)

    def forget_sql(self, row: NewHistoryRow) -> str:
        return self.dialect.forget_history(self.table, self.schema, row)


@contextmanager
def open_target(project: Project, env: Environment, *, create: bool = True) -> Iterator[Target]:
    """The environment's database as a Target, closed afterwards."""
    target = Target.open(
        env.url,
        table=env.history_table,
        schema=env.history_schema,
        lock_wait=project.lock_wait_seconds,
        create=create,
    )
    try:
        yield target
    finally:
        target.close()
