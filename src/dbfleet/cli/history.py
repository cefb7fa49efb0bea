"""`dbfleet history`: the runs recorded in the state store, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import console, emit_json


@app.command()
def history(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many runs to show.")] = 20,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show what dbfleet did: runs with who, when, command, environment, result and duration."""
    from dbfleet.config import load_project
    from dbfleet.state import open_store
    from dbfleet.state.store import STATE_FILE

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    if project.state_url is None and not (project.root / STATE_FILE).exists():
        runs = []  # nothing recorded yet: do not create a store just to say so
    else:
        with open_store(project) as store:
            runs = store.runs(environment=env, limit=limit)
    if json:
        emit_json({"runs": [vars(r) for r in runs]})
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Started", "Actor", "Command", "Environment", "Target", "Result", "Duration"):
        table.add_column(column, no_wrap=True)
    table.add_column("Error")
    for r in runs:
        style = {"ok": "green", "failed": "red"}.get(r.result, "yellow")
        table.add_row(
            r.started_at[:19].replace("T", " "),
            escape(r.actor),
            escape(r.command),
            escape(r.environment or ""),
            escape(r.target or ""),
            f"[{style}]{r.result}[/]",
            f"{r.duration_ms} ms" if r.duration_ms is not None else "",
            escape(r.error or ""),
        )
    out = console()
    out.print(table if runs else "no runs recorded yet")
