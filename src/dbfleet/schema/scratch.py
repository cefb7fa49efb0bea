"""Scratch databases: empty databases on the project's engine where DDL becomes a model."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dbfleet.config import Project
from dbfleet.dburl import DatabaseUrl, parse_url
from dbfleet.engines import connect
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import Model

PREFIX = "dbfleet_scratch_"


@contextmanager
def scratch_database(project: Project, engine: str | None = None) -> Iterator[DatabaseUrl]:
    """A new, empty database, dropped afterwards — also on error and Ctrl-C.

    SQLite: a temporary file. PostgreSQL and MariaDB: a uniquely named database on
    [project] scratch_url; for PostgreSQL with none configured, an embedded server.
    """
    engine = engine or project.engine_name()
    if engine == "sqlite":
        folder = tempfile.mkdtemp(prefix="dbfleet-scratch-")
        path = os.path.join(folder, "scratch.db")
        try:
            yield parse_url(f"sqlite:///{path}")
        finally:
            for name in os.listdir(folder):
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)
        return
    server = project.scratch_server()
    if server is None:
        if engine != "postgresql":
            raise DbfleetError(
                "no MariaDB/MySQL server for scratch databases",
                hint='set [project] scratch_url = "mysql://user@host/any_db" (dbfleet creates '
                "and drops its own databases there)",
            )
        from dbfleet.engines.postgres.embedded import embedded_server

        server = embedded_server()
    if server.engine != engine:
        raise DbfleetError(
            f"scratch_url is a {server.engine} server, but the project uses {engine}"
        )
    name = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"  # the pid tells whose a leftover is
    with connect(server) as admin:
        try:
            admin.execute(admin.dialect.create_database(name))
        except DbfleetError as exc:
            raise DbfleetError(
                f"cannot create a scratch database on {server.display}: {exc}",
                hint="the scratch_url user needs the right to CREATE DATABASE",
            ) from None
    try:
        yield server.with_database(name)
    finally:
        with connect(server) as admin:
            admin.execute(admin.dialect.drop_database(name))


class ReplayFailed(DbfleetError):
    """Statement `index` (1-based) of a replay failed on the scratch copy."""

    def __init__(self, index: int, cause: DbfleetError) -> None:
        super().__init__(cause.message, hint=cause.hint)
        self.index = index


def replayed(project: Project, model: Model, statements: Sequence[str]) -> Model:
    """`model` created on a scratch database, then each of `statements` run there, and the
    result inspected as `diff` sees schemas (no owners or privileges)."""
    from dbfleet.engines import inspect, render
    from dbfleet.schema.select import select

    with scratch_database(project, model.engine) as url, connect(url) as conn:
        for statement in conn.dialect.split(render(model)):
            conn.execute(statement.text)
        for index, sql in enumerate(statements, 1):
            try:
                conn.execute(sql)
            except DbfleetError as exc:
                raise ReplayFailed(index, exc) from None
        return select(inspect(conn))
