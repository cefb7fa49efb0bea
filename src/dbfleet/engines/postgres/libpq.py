"""A small PostgreSQL client over ctypes and libpq, for the migration path.

Importing psycopg costs ~0.15 s (its whole API, type adapters and error classes load at once),
more than a no-op `dbfleet migrate` may take in all. The migration commands need little of it:
simple-protocol text queries, a few result types, the error fields, cancellation. This module
gives them that, over the libpq that psycopg-binary bundles (or the system's `libpq.so.5`).
It never imports psycopg; `available()` is False when no libpq can be loaded.

Every wait for the server is a poll() in Python, so Ctrl-C (KeyboardInterrupt) and
`Session.cancel()` from another thread stop a long statement: the statement is cancelled on the
server and its results drained, so the session can roll back and go on.
"""

from __future__ import annotations

import ctypes
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from ctypes import POINTER, c_char_p, c_int, c_void_p
from datetime import date, datetime
from pathlib import Path
from typing import Any

# Libpq's enums, as the C header defines them.
_CONNECTION_BAD = 1
_POLLING_FAILED, _POLLING_READING, _POLLING_WRITING, _POLLING_OK = 0, 1, 2, 3
_EMPTY_QUERY, _COMMAND_OK, _TUPLES_OK, _COPY_OUT, _COPY_IN = 0, 1, 2, 3, 4
_FATAL_ERROR = 7
TRANS_IDLE, TRANS_ACTIVE, TRANS_INTRANS, TRANS_INERROR, TRANS_UNKNOWN = 0, 1, 2, 3, 4
_DIAG_SQLSTATE, _DIAG_PRIMARY, _DIAG_DETAIL, _DIAG_POSITION = (ord(c) for c in "CMDP")

CONNECT_TIMEOUT = 10.0  # seconds, for the whole connection attempt
_CANCEL_GRACE = 10.0  # how long a cancelled statement may take to stop before we hang up

_NOTICE_PROCESSOR_TYPE = ctypes.CFUNCTYPE(None, c_void_p, c_char_p)

# name -> (restype, argtypes). Handles are c_void_p so that ctypes never truncates a pointer.
_FUNCTIONS: dict[str, tuple[Any, list[Any]]] = {
    "PQconnectStartParams": (c_void_p, [POINTER(c_char_p), POINTER(c_char_p), c_int]),
    "PQconnectPoll": (c_int, [c_void_p]),
    "PQstatus": (c_int, [c_void_p]),
    "PQerrorMessage": (c_char_p, [c_void_p]),
    "PQsocket": (c_int, [c_void_p]),
    "PQsetNoticeProcessor": (c_void_p, [c_void_p, _NOTICE_PROCESSOR_TYPE, c_void_p]),
    "PQsendQuery": (c_int, [c_void_p, c_char_p]),
    "PQconsumeInput": (c_int, [c_void_p]),
    "PQisBusy": (c_int, [c_void_p]),
    "PQgetResult": (c_void_p, [c_void_p]),
    "PQresultStatus": (c_int, [c_void_p]),
    "PQresultErrorMessage": (c_char_p, [c_void_p]),
    "PQresultErrorField": (c_char_p, [c_void_p, c_int]),
    "PQntuples": (c_int, [c_void_p]),
    "PQnfields": (c_int, [c_void_p]),
    "PQfname": (c_char_p, [c_void_p, c_int]),
    "PQftype": (ctypes.c_uint, [c_void_p, c_int]),
    "PQgetvalue": (c_char_p, [c_void_p, c_int, c_int]),
    "PQgetisnull": (c_int, [c_void_p, c_int, c_int]),
    "PQputCopyEnd": (c_int, [c_void_p, c_char_p]),
    "PQgetCopyData": (c_int, [c_void_p, POINTER(c_void_p), c_int]),
    "PQfreemem": (None, [c_void_p]),
    "PQtransactionStatus": (c_int, [c_void_p]),
    "PQgetCancel": (c_void_p, [c_void_p]),
    "PQcancel": (c_int, [c_void_p, c_char_p, c_int]),
    "PQfreeCancel": (None, [c_void_p]),
    "PQclear": (None, [c_void_p]),
    "PQfinish": (None, [c_void_p]),
}

# Notices (e.g. "relation already exists, skipping") are dropped, as psycopg drops them; libpq's
# default would print them on stderr.
_NOTICE_PROCESSOR = _NOTICE_PROCESSOR_TYPE(lambda arg, message: None)

_lib: Any = None
_lib_lock = threading.Lock()
_searched = False


def _candidates() -> list[str]:
    """Where libpq may be, best first: DBFLEET_LIBPQ (a path) alone when it is set, else
    psycopg-binary's bundled copy, then the system's."""
    chosen = os.environ.get("DBFLEET_LIBPQ", "").strip()
    if chosen:
        return [chosen]
    found: list[str] = []
    folders: list[str] = []
    try:
        from importlib.util import find_spec

        spec = find_spec("psycopg_binary")  # finds the package without importing it
        if spec is not None:
            folders += [str(Path(p).parent) for p in spec.submodule_search_locations or []]
    except (ImportError, ValueError):
        pass
    folders += [p for p in sys.path if p.endswith("-packages")]
    for folder in dict.fromkeys(folders):
        # Linux wheels (auditwheel) put it beside the package, macOS ones (delocate) inside it.
        found += sorted(str(p) for p in Path(folder, "psycopg_binary.libs").glob("libpq-*.so*"))
        found += sorted(str(p) for p in Path(folder, "psycopg_binary", ".dylibs").glob("libpq*"))
    # Then the dynamic loader's search; never ctypes.util.find_library (it starts processes).
    return [*found, "libpq.so.5", "libpq.5.dylib"]


def _load() -> Any:
    """The loaded libpq with every function declared, or None when none can be loaded."""
    global _lib, _searched
    with _lib_lock:
        if _searched:
            return _lib
        _searched = True
        for candidate in _candidates():
            try:
                lib = ctypes.CDLL(candidate)
                for name, (restype, argtypes) in _FUNCTIONS.items():
                    function = getattr(lib, name)
                    function.restype = restype
                    function.argtypes = argtypes
            except (OSError, AttributeError):  # missing, or too old for a function we use
                continue
            _lib = lib
            break
        return _lib


def available() -> bool:
    """True when a libpq could be loaded (the light client can be used)."""
    return _load() is not None


class ConnectFailed(Exception):
    """The connection could not be made; the text is libpq's message (it may hold a password)."""


class ServerError(Exception):
    """A statement failed. `position` is the server's 1-based character offset in the text."""

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        detail: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.detail = detail
        self.position = position


class SessionLost(ServerError):
    """The connection broke (the server went away, or a cancelled statement would not stop)."""


# --- text results -> Python values -------------------------------------------------------------


def _bool(value: bytes) -> bool:
    return value == b"t"


def _numeric(value: bytes) -> Any:
    from decimal import Decimal  # imported when a numeric is read: the history has none

    return Decimal(value.decode())


def _iso(parse: Callable[[str], Any]) -> Callable[[bytes], Any]:
    """A converter of dates and timestamps in the ISO DateStyle (the server's default).

    fromisoformat reads them with or without a UTC offset; infinity, BC dates and other
    DateStyles come back as the server's text.
    """

    def convert(value: bytes) -> Any:
        text = value.decode()
        try:
            return parse(text)
        except ValueError:
            return text

    return convert


def _text(value: bytes) -> str:
    return value.decode()


# Type OID -> converter, for the types the migration commands read. Anything else is text.
_CONVERTERS: dict[int, Callable[[bytes], Any]] = {
    16: _bool,  # bool
    20: int,  # int8
    21: int,  # int2
    23: int,  # int4
    26: int,  # oid
    700: float,  # float4
    701: float,  # float8
    1700: _numeric,  # numeric
    1114: _iso(datetime.fromisoformat),  # timestamp
    1184: _iso(datetime.fromisoformat),  # timestamptz
    1082: _iso(date.fromisoformat),  # date
}


class Result:
    """The rows of a query (converted to Python values) and its column names."""

    __slots__ = ("names", "rows")

    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.names = names
        self.rows = rows


_NO_ROWS = Result([], [])


def _read(lib: Any, res: int) -> Result:
    nfields = lib.PQnfields(res)
    ntuples = lib.PQntuples(res)
    names = [lib.PQfname(res, c).decode() for c in range(nfields)]
    convert = [_CONVERTERS.get(lib.PQftype(res, c), _text) for c in range(nfields)]
    getvalue, isnull = lib.PQgetvalue, lib.PQgetisnull
    rows = []
    for r in range(ntuples):
        row: list[Any] = []
        for c in range(nfields):
            value = getvalue(res, r, c)
            # NULL reads as b"": only then is the (rarer) question worth a call.
            if not value and isnull(res, r, c):
                row.append(None)
            else:
                row.append(convert[c](value))
        rows.append(tuple(row))
    return Result(names, rows)


def _error(lib: Any, res: int) -> ServerError:
    def field(code: int) -> str | None:
        value = lib.PQresultErrorField(res, code)
        return value.decode(errors="replace") if value else None

    primary = field(_DIAG_PRIMARY)
    if primary is None:  # a client-side error (e.g. the connection was lost)
        text = (lib.PQresultErrorMessage(res) or b"").decode(errors="replace").strip()
        primary = text.splitlines()[0] if text else "the statement failed"
    position = field(_DIAG_POSITION)
    return ServerError(
        primary,
        sqlstate=field(_DIAG_SQLSTATE),
        detail=field(_DIAG_DETAIL),
        position=int(position) if position else None,
    )


class Session:
    """One libpq connection in autocommit mode; one thread uses it, any thread may cancel."""

    def __init__(self, url: str, *, application_name: str = "dbfleet") -> None:
        lib = _load()
        if lib is None:
            raise ConnectFailed("libpq could not be loaded")
        self._lib = lib
        params = {
            "dbname": url,  # a URL or key=value string, expanded; what follows overrides it
            "client_encoding": "UTF8",
            "application_name": application_name,
            "connect_timeout": str(int(CONNECT_TIMEOUT)),
        }
        keys = (c_char_p * (len(params) + 1))(*(k.encode() for k in params), None)
        values = (c_char_p * (len(params) + 1))(*(v.encode() for v in params.values()), None)
        self._conn: int | None = lib.PQconnectStartParams(keys, values, 1)
        self._cancel_lock = threading.Lock()
        self._canceller: int | None = None
        if not self._conn:
            raise ConnectFailed("out of memory")
        try:
            self._connect()
        except BaseException:
            self.close()
            raise
        lib.PQsetNoticeProcessor(self._conn, _NOTICE_PROCESSOR, None)
        self._canceller = lib.PQgetCancel(self._conn)
        self._poll = select.poll()
        self._poll.register(lib.PQsocket(self._conn), select.POLLIN)

    def _connect(self) -> None:
        # PQconnectPoll, not the blocking PQconnectdb, so that Ctrl-C stops a hanging connect.
        lib, conn = self._lib, self._conn
        if lib.PQstatus(conn) == _CONNECTION_BAD:
            raise ConnectFailed(self._message())
        deadline = time.monotonic() + CONNECT_TIMEOUT
        state = _POLLING_WRITING
        while state != _POLLING_OK:
            if state == _POLLING_FAILED:
                raise ConnectFailed(self._message())
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectFailed("timeout expired")
            poll = select.poll()
            poll.register(
                lib.PQsocket(conn), select.POLLIN if state == _POLLING_READING else select.POLLOUT
            )
            if not poll.poll(left * 1000):
                raise ConnectFailed("timeout expired")
            state = lib.PQconnectPoll(conn)

    def _message(self) -> str:
        text = self._lib.PQerrorMessage(self._conn) if self._conn else None
        return (text or b"").decode(errors="replace").strip() or "connection failed"

    @property
    def closed(self) -> bool:
        return not self._conn

    def transaction_status(self) -> int:
        """TRANS_IDLE, TRANS_INTRANS, TRANS_INERROR, ... (TRANS_UNKNOWN when closed)."""
        return self._lib.PQtransactionStatus(self._conn) if self._conn else TRANS_UNKNOWN

    def run(self, sql: str) -> Result:
        """Send `sql` (one or more statements, simple protocol) and wait for all its results.

        Returns the rows of the last statement that returned rows; raises ServerError for the
        first statement that failed (the server runs none after it).
        """
        lib, conn = self._lib, self._conn
        if not conn:
            raise SessionLost("the connection is closed")
        data = sql.encode()
        if b"\0" in data:  # C would cut the text there and run what comes before
            raise ServerError("the SQL text contains a NUL character (0x00)")
        if not lib.PQsendQuery(conn, data):
            raise self._lost()
        try:
            return self._results()
        except (ServerError, ConnectFailed):
            raise
        except BaseException:  # Ctrl-C (or anything else) while the server works: stop it
            self._interrupt()
            raise

    def _results(self) -> Result:
        lib, conn = self._lib, self._conn
        result, error = _NO_ROWS, None
        while True:
            while lib.PQisBusy(conn):
                self._poll.poll()  # KeyboardInterrupt comes out of here
                if not lib.PQconsumeInput(conn):
                    raise self._lost()
            res = lib.PQgetResult(conn)
            if not res:
                break
            try:
                status = lib.PQresultStatus(res)
                if status == _TUPLES_OK:
                    result = _read(lib, res)
                elif status == _COPY_IN:  # there is no data to send: end it, as an error
                    lib.PQputCopyEnd(conn, b"COPY FROM STDIN is not supported in a migration")
                elif status == _COPY_OUT:
                    self._skip_copy_out()
                    error = error or ServerError("COPY TO STDOUT is not supported in a migration")
                elif status not in (_COMMAND_OK, _EMPTY_QUERY) and error is None:
                    error = _error(lib, res)
            finally:
                lib.PQclear(res)
        if error is not None:
            if self.transaction_status() == TRANS_UNKNOWN:
                self._hang_up()
            raise error
        return result

    def _skip_copy_out(self) -> None:
        buffer = c_void_p()
        while True:
            n = self._lib.PQgetCopyData(self._conn, ctypes.byref(buffer), 0)
            if buffer:
                self._lib.PQfreemem(buffer)
                buffer = c_void_p()
            if n < 0:
                return

    def _lost(self) -> SessionLost:
        message = self._message().splitlines()[0]
        self._hang_up()
        return SessionLost(message)

    def _interrupt(self) -> None:
        """Cancel what the server runs and drain its results; hang up if that fails."""
        try:
            self.cancel()
            deadline = time.monotonic() + _CANCEL_GRACE
            lib, conn = self._lib, self._conn
            while conn:
                while lib.PQisBusy(conn):
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._poll.poll(left * 1000):
                        raise TimeoutError
                    if not lib.PQconsumeInput(conn):
                        raise TimeoutError
                res = lib.PQgetResult(conn)
                if not res:
                    return
                if lib.PQresultStatus(res) == _COPY_IN:
                    lib.PQputCopyEnd(conn, b"interrupted")
                lib.PQclear(res)
        except BaseException:  # a second Ctrl-C, or a statement that would not stop
            self._hang_up()  # the server rolls back what it had begun

    def cancel(self) -> None:
        """Ask the server to stop the running statement (safe from any thread, and when idle)."""
        with self._cancel_lock:
            if self._canceller:
                buffer = ctypes.create_string_buffer(256)
                self._lib.PQcancel(self._canceller, buffer, 256)

    def _hang_up(self) -> None:
        with self._cancel_lock:
            if self._canceller:
                self._lib.PQfreeCancel(self._canceller)
                self._canceller = None
            if self._conn:
                self._lib.PQfinish(self._conn)
                self._conn = None

    def close(self) -> None:
        self._hang_up()

    def __del__(self) -> None:
        if getattr(self, "_conn", None) and not sys.is_finalizing():
            self._hang_up()
