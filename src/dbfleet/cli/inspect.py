"""`dbfleet inspect SOURCE`: a schema as reviewable DDL, a JSON model, or one file per object."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_text, info
from dbfleet.errors import DbfleetError

if TYPE_CHECKING:
    from dbfleet.schema.model import Model


@app.command()
def inspect(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="env:NAME, a database URL, dir:PATH, migrations, migrations@VERSION "
            "or file:MODEL.json"
        ),
    ],
    format: Annotated[str, typer.Option("--format", "-f", help="sql or json.")] = "sql",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (folder with --split)."),
    ] = None,
    split: Annotated[
        bool, typer.Option("--split", help="One .sql file per object under --output.")
    ] = False,
    schema: Annotated[
        list[str] | None, typer.Option("--schema", "-s", help="Only this schema (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", help="Leave out objects matching this glob (repeatable)."),
    ] = None,
    include_history: Annotated[
        bool, typer.Option("--include-history", help="Keep dbfleet's history table.")
    ] = False,
    privileges: Annotated[
        bool, typer.Option("--privileges", help="Include GRANTs and REVOKEs.")
    ] = False,
    owners: Annotated[bool, typer.Option("--owners", help="Include object owners.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when something is not modelled.")
    ] = False,
) -> None:
    """Reverse-engineer a schema: DDL a human reviews, a JSON model, or a folder of files."""
    from dbfleet.config import load_project
    from dbfleet.schema.sources import load_model, parse_source

    if format not in ("sql", "json"):
        raise DbfleetError(f"--format {format}: not a format", hint="use sql or json")
    if split and (output is None or format != "sql"):
        raise DbfleetError("--split writes SQL files into a folder", hint="add -o DIR")
    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    model = load_model(
        parse_source(source),
        project,
        schemas=tuple(schema or ()),
        exclude=tuple(exclude or ()),
        include_history=include_history,
        privileges=privileges,
        owners=owners,
    )
    for warning in model.warnings:
        info(f"warning: {warning}")
    if strict and model.warnings:
        raise DbfleetError(
            f"{len(model.warnings)} object(s) are not modelled (see the warnings above)",
            hint="drop --strict to leave them out, or --exclude them",
        )
    if split:
        assert output is not None
        written, removed = _write_split(model, output)
        info(
            f"wrote {written} file(s) under {output}"
            + (f", removed {removed} stale" if removed else "")
        )
        return
    if format == "json":
        from dbfleet.schema.serialize import to_json

        text = to_json(model)
    else:
        from dbfleet.engines import render

        text = render(model)
    if output is None:
        emit_text(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        info(f"wrote {output}")


def _write_split(model: Model, folder: Path) -> tuple[int, int]:
    """Write one file per object; remove .sql files of objects that no longer exist."""
    from dbfleet.engines import render_files

    files = render_files(model)
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    # Only files in the layout dbfleet writes are dbfleet's to remove; other SQL stays.
    stale = [
        p
        for p in folder.rglob("*.sql")
        if p.relative_to(folder).as_posix() not in files and _in_layout(p.relative_to(folder))
    ]
    for path in stale:
        path.unlink()
    return len(files), len(stale)


def _in_layout(relative: Path) -> bool:
    from dbfleet.schema.layout import FOLDERS, TOP_FILES

    parts = relative.parts
    return (
        (len(parts) == 1 and parts[0] in TOP_FILES)
        or (len(parts) == 3 and parts[1] in FOLDERS)
        or (len(parts) == 2 and parts[1] == "schema.sql")
    )
