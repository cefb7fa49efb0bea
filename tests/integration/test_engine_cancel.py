"""Connection.cancel stops a running statement from another thread, on every engine."""

from __future__ import annotations

import threading
import time

import pytest

from dbfleet.dburl import parse_url
from dbfleet.engines import connect
from dbfleet.engines.base import StatementError

# A statement that runs far longer than the test waits, per engine.
SLOW = {
    "postgresql": "SELECT pg_sleep(30)",
    "mysql": "SELECT SLEEP(30)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n",
}


def test_cancel_stops_the_running_statement_and_the_connection_goes_on(db_url: str) -> None:
    url = parse_url(db_url)
    with connect(url) as conn:
        conn.cancel()  # nothing runs: nothing happens
        assert conn.query("SELECT 1") == [(1,)]
        timer = threading.Timer(0.5, conn.cancel)
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(StatementError):
                conn.query(SLOW[url.engine])
        finally:
            timer.cancel()
        assert time.monotonic() - started < 10
        assert conn.query("SELECT 2") == [(2,)]
    conn.cancel()  # closed: nothing happens
