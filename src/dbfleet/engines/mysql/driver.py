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
        options = _connect_options(url)
        try:
            self.raw = pymysql.connect(
                host=url.host or "localhost",
                port=url.port or 3306,
                user=url.user or "root",
                password=url.password or "",
                database=url.database,
                autocommit=True,
                **options,
            )
        except pymysql.err.MySQLError as exc:
            raise ConnectError(_connect_message(url, exc)) from None
        except (LookupError, AttributeError, ValueError, OSError) as exc:  # bad charset, TLS files
            raise ConnectError(f"cannot connect to {url.display}: {redact(str(exc))}") from None

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

    def cancel(self) -> None:
        """KILL QUERY the running statement, sent on a second short-lived connection: PyMySQL
        has no cancel of its own, and the connection in use is blocked reading the result."""
        if not self.raw.open:
            return
        thread = self.raw.thread_id()
        url = self.url
        try:
            killer = pymysql.connect(
                host=url.host or "localhost",
                port=url.port or 3306,
                user=url.user or "root",
                password=url.password or "",
                autocommit=True,
                **_connect_options(url),
            )
        except pymysql.err.MySQLError:
            return  # the server is gone: nothing left to stop
        try:
            with killer.cursor() as cursor:
                cursor.execute(f"KILL QUERY {int(thread)}")
        except pymysql.err.MySQLError:
            pass  # the statement had ended, or the connection is gone
        finally:
            killer.close()

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


_TLS_MODES = {"disabled", "required", "verify_ca", "verify_identity"}
_PARAMS = ("charset", "connect_timeout", "ssl", "ssl_mode", "ssl_ca", "ssl_cert", "ssl_key")


def _connect_options(url: DatabaseUrl) -> dict[str, Any]:
    """PyMySQL keyword arguments from the URL's query string; unknown parameters are errors."""
    options: dict[str, Any] = {"charset": "utf8mb4", "connect_timeout": 10}
    ssl: dict[str, Any] = {}
    for key, value in url.params:
        if key not in _PARAMS:
            raise ConnectError(
                f"{url.display}: unknown URL parameter '{key}'",
                hint="MariaDB/MySQL URLs take " + ", ".join(_PARAMS),
            )
        if key == "charset":
            options["charset"] = value
        elif key == "connect_timeout":
            if not value.isdigit():
                raise ConnectError(f"{url.display}: connect_timeout must be a number of seconds")
            options["connect_timeout"] = int(value)
        elif key in ("ssl", "ssl_mode"):
            mode = {"true": "required", "1": "required", "false": "disabled", "0": "disabled"}.get(
                value.lower(), value.lower()
            )
            if mode not in _TLS_MODES:
                raise ConnectError(
                    f"{url.display}: {key}={value} is not a TLS mode",
                    hint="use one of " + ", ".join(sorted(_TLS_MODES)),
                )
            if mode != "disabled":
                ssl["verify_mode"] = mode
        else:
            ssl[key.removeprefix("ssl_")] = value
    if ssl:
        mode = ssl.pop("verify_mode", "required")
        options["ssl"] = ssl
        options["ssl_verify_cert"] = mode in ("verify_ca", "verify_identity")
        options["ssl_verify_identity"] = mode == "verify_identity"
    return options


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
