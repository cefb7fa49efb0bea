"""Where a schema comes from: `env:NAME`, a database URL, `file:model.json` (and more to come)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dbfleet.config import Project
from dbfleet.dburl import DatabaseUrl, parse_url
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import Model
from dbfleet.schema.select import select

SOURCE_FORMS = "env:NAME, a database URL, or file:MODEL.json"


@dataclass(frozen=True)
class Source:
    """A parsed SOURCE argument."""

    kind: str  # "env" | "url" | "file"
    value: str

    def __str__(self) -> str:
        return self.value if self.kind == "url" else f"{self.kind}:{self.value}"


def parse_source(text: str) -> Source:
    if "://" in text:
        return Source("url", text)
    kind, sep, value = text.partition(":")
    if sep and kind in ("env", "file") and value:
        return Source(kind, value)
    raise DbfleetError(f"'{text}' is not a schema source", hint=f"use {SOURCE_FORMS}")


def load_model(
    source: Source,
    project: Project,
    *,
    schemas: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    include_history: bool = False,
) -> Model:
    """Read the schema a source describes, narrowed to `schemas` and without `exclude`."""
    hide: list[tuple[str | None, str]] = []
    if source.kind == "file":
        model = _from_file(project.root, source.value)
    else:
        if source.kind == "env":
            env = project.environment(source.value)
            url = env.url
            if not include_history:
                hide.append((env.history_schema, env.history_table))
        else:
            url = parse_url(source.value, where="source")
            if not include_history:
                hide.append((None, project.history_table))
        model = inspect_url(url)
    return select(model, schemas=schemas, exclude=exclude, hide=hide)


def inspect_url(url: DatabaseUrl) -> Model:
    from dbfleet.engines import connect, inspect

    if url.engine == "sqlite" and url.database != ":memory:" and not os.path.exists(url.database):
        raise DbfleetError(
            f"SQLite database {url.database} does not exist", hint="check the path in the URL"
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
