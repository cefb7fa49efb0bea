"""Where a schema comes from: a live database, desired-state DDL, the migrations, a model file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dbfleet.config import Project
from dbfleet.dburl import DatabaseUrl, parse_url
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import Model
from dbfleet.schema.select import select

SOURCE_FORMS = "env:NAME, a database URL, dir:PATH, migrations[@VERSION] or file:MODEL.json"


@dataclass(frozen=True)
class Source:
    """A parsed SOURCE argument."""

    kind: str  # "env" | "url" | "file" | "dir" | "migrations"
    value: str  # for migrations: the version, or "" for all of them

    def __str__(self) -> str:
        if self.kind == "url":
            return self.value
        if self.kind == "migrations":
            return f"migrations@{self.value}" if self.value else "migrations"
        return f"{self.kind}:{self.value}"


def parse_source(text: str) -> Source:
    if "://" in text:
        return Source("url", text)
    if text == "migrations" or text.startswith("migrations@"):
        version = text.partition("@")[2]
        if "@" in text and not version:
            raise DbfleetError(f"'{text}' names no version", hint="e.g. migrations@42")
        return Source("migrations", version)
    kind, sep, value = text.partition(":")
    if sep and kind in ("env", "file", "dir") and value:
        return Source(kind, value)
    raise DbfleetError(f"'{text}' is not a schema source", hint=f"use {SOURCE_FORMS}")


def load_model(
    source: Source,
    project: Project,
    *,
    schemas: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    include_history: bool = False,
    privileges: bool = False,
    owners: bool = False,
) -> Model:
    """Read the schema a source describes, narrowed to `schemas` and without `exclude`."""
    hide: list[tuple[str | None, str]] = []
    if source.kind == "file":
        model = _from_file(project.root, source.value)
    elif source.kind == "dir":
        model = _from_folder(project, source.value)
    elif source.kind == "migrations":
        model = _from_migrations(project, source.value)
        if not include_history:
            hide.append((None, project.history_table))
    else:
        if source.kind == "env":
            env = project.environment(source.value)
            url = env.url
            if not include_history:
                # MariaDB models the connected database as schema "": a history_schema naming
                # it means "here", as no history_schema does.
                schema = env.history_schema
                hide.append((None if schema in (None, url.database) else schema, env.history_table))
        else:
            url = parse_url(source.value, where="source")
            if not include_history:
                hide.append((None, project.history_table))
        model = inspect_url(url)
    return select(
        model, schemas=schemas, exclude=exclude, hide=hide, privileges=privileges, owners=owners
    )


def inspect_url(url: DatabaseUrl) -> Model:
    from dbfleet.engines import connect, inspect

    if url.file_missing():
        raise DbfleetError(
            f"SQLite database {url.database} does not exist",
            hint="`dbfleet migrate` creates it; otherwise check the path in the URL",
        )
    with connect(url, create=False) as conn:
        return inspect(conn)


def _from_file(root: Path, name: str) -> Model:
    from dbfleet.schema.serialize import from_json

    path = Path(name) if os.path.isabs(name) else root / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DbfleetError(f"model file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DbfleetError(f"model file {path} cannot be read: {exc}") from None
    return from_json(text, source=str(path))


def _from_folder(project: Project, name: str) -> Model:
    from dbfleet.engines import connect, inspect
    from dbfleet.schema.folder import apply_folder
    from dbfleet.schema.scratch import scratch_database

    folder = Path(name) if os.path.isabs(name) else project.root / name
    if not folder.is_dir():
        raise DbfleetError(f"dir:{name}: {folder} is not a folder")
    with scratch_database(project) as url, connect(url) as conn:
        apply_folder(conn, folder, label=f"dir:{name}")
        return inspect(conn)


def _from_migrations(project: Project, version: str) -> Model:
    """The schema the project's migrations produce (up to `version`), replayed from scratch."""
    from dbfleet.config import Environment
    from dbfleet.engines import connect, inspect
    from dbfleet.migrate.commands import migrate
    from dbfleet.migrate.files import Version
    from dbfleet.schema.scratch import scratch_database

    try:
        target = Version.parse(version) if version else None
    except ValueError as exc:
        raise DbfleetError(f"migrations@{version}: {exc}") from None
    placeholders = dict(project.placeholders)
    if project.default_environment:
        placeholders = dict(project.environment(project.default_environment).placeholders)
    with scratch_database(project) as url:
        env = Environment(
            name="scratch",
            url=url,
            placeholders=placeholders,
            history_schema=None,
            history_table=project.history_table,
        )
        migrate(project, env, target_version=target)
        with connect(url) as conn:
            return inspect(conn)
