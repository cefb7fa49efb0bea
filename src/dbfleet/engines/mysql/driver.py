"""MariaDB/MySQL connection (PyMySQL) and GET_LOCK; DDL commits implicitly here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
import pymysql.cursors

from dbfleet.dburl import DatabaseUrl
from dbfleet.engines.base import Connection, StatementError
from dbfleet.engines.mysql.dialect import DIALECT
from dbfleet.errors import ConnectError, LockTimeout
from dbfleet.secrets import redact

# Server error codes -> what to do about them.
_ACCESS_DENIED, _UNKNOWN_DATABASE, _CANNOT_CONNECT, _UNKNOWN_HOST = 1045, 1049, 2003, 2005


class MysqlConnection(Connection):
    dialect = DIALECT

    def __init__(self, url: DatabaseUrl) -> None:
        super().__init__(url)
        try:
            self.raw = pymysql.connect(
                host=url.host or "localhost",
                port=url.port or 3306,
                user=url.user or "root",
                password=url.password or "",
                database=url.database,
                autocommit=True,
                connect_timeout=10,
                charset=url.param("charset") or "utf8mb4",
            )
        except pymysql.err.MySQLError as exc:
            raise ConnectError(_connect_message(url, exc)) from None

    def execute(self, sql: str) -> None:
        try:
            with self.raw.cursor() as cursor:
                cursor.execute(sql)
        except pymysql.err.MySQLError as exc:
            raise _statement_error(exc) from None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            with self.raw.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        except pymysql.err.MySQLError as exc:
            raise _statement_error(exc) from None

    def records(self, sql: str) -> list[dict[str, Any]]:
        try:
            with self.raw.cursor(pymysql.cursors.DictCursor) as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        except pymysql.err.MySQLError as exc:
            raise _statement_error(exc) from None

    def close(self) -> None:
        if self.raw.open:
            self.raw.close()

    def current_user(self) -> str:
        return str(self.query("SELECT CURRENT_USER()")[0][0])

    def default_schema(self) -> str | None:
        return str(self.query("SELECT DATABASE()")[0][0])

    def table_exists(self, table: str, schema: str | None) -> bool:
        q = self.dialect.quote_literal
        owner = q(schema) if schema else "DATABASE()"
        return bool(
            self.query(
                "SELECT 1 FROM information_schema.tables "
                f"WHERE table_schema = {owner} AND table_name = {q(table)}"
            )
        )

    def ensure_schema(self, schema: str | None) -> list[str]:
        if not schema:
            return []
        exists = self.query(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = "
            + self.dialect.quote_literal(schema)
        )
        return (
            [] if exists else [f"CREATE DATABASE IF NOT EXISTS {self.dialect.quote_ident(schema)}"]
        )

    @contextmanager
    def lock(self, key: str, wait_seconds: float) -> Iterator[None]:
        # GET_LOCK names are limited to 64 characters.
        name = "dbfleet:" + hashlib.sha256(key.encode()).hexdigest()[:40]
        literal = self.dialect.quote_literal(name)
        got = self.query(f"SELECT GET_LOCK({literal}, {max(0, int(wait_seconds))})")[0][0]
        if got != 1:
            raise LockTimeout(
                f"another dbfleet run holds the lock on {self.url.display} "
                f"(waited {wait_seconds:g} s)",
                hint="wait for it to finish, or raise [migrations] lock_wait",
            )
        try:
            yield
        finally:
            if self.raw.open:
                self.query(f"SELECT RELEASE_LOCK({literal})")


def _statement_error(exc: pymysql.err.MySQLError) -> StatementError:
    args = exc.args
    code = args[0] if args and isinstance(args[0], int) else None
    message = str(args[1]) if len(args) > 1 else str(exc)
    return StatementError(redact(message), sqlstate=str(code) if code is not None else None)


def _connect_message(url: DatabaseUrl, exc: pymysql.err.MySQLError) -> str:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    detail = redact(str(exc.args[1]) if len(exc.args) > 1 else str(exc))
    advice = {
        _ACCESS_DENIED: "check the user and password in the URL",
        _UNKNOWN_DATABASE: f"create the database first (CREATE DATABASE `{url.database}`) "
        "or fix the URL",
        _CANNOT_CONNECT: "check that the server is running and the host and port are right",
        _UNKNOWN_HOST: "check the host name in the URL",
    }.get(code or 0, "check the URL and the server")
    detail = detail.split(" (", 1)[0] if code == _CANNOT_CONNECT else detail
    return f"cannot connect to {url.display}: {detail} ({advice})"


def connect(url: DatabaseUrl, *, create: bool = True) -> MysqlConnection:
    return MysqlConnection(url)
