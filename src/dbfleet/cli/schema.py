"""`dbfleet schema [NAME]`: the JSON Schemas of the documents dbfleet writes for machines."""

from __future__ import annotations

from typing import Annotated

import typer

from dbfleet.cli.app import app
from dbfleet.cli.output import emit_text


def _names() -> list[str]:
    from importlib.resources import files

    folder = files("dbfleet.report") / "schemas"
    suffix = ".schema.json"
    return sorted(p.name[: -len(suffix)] for p in folder.iterdir() if p.name.endswith(suffix))


@app.command()
def schema(
    name: Annotated[
        str | None, typer.Argument(help="The document, e.g. plan, drift, status (none: list).")
    ] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a document dbfleet writes with --json/-f json."""
    from importlib.resources import files

    from dbfleet.errors import DbfleetError

    names = _names()
    if name is None:
        emit_text("\n".join(names))
        return
    if name not in names:
        raise DbfleetError(f"no schema named {name!r}", hint="one of: " + ", ".join(names))
    emit_text((files("dbfleet.report") / "schemas" / f"{name}.schema.json").read_text("utf-8"))
