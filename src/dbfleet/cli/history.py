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
    command: Annotated[
        str | None,
        typer.Option("--command", "-c", help='Only this command (or group: "fleet").'),
    ] = None,
    result: Annotated[
        str | None, typer.Option("--result", help="Only runs with this result (ok, failed, ...).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only runs started since (2026-11-01, 7d, 12h).")
    ] = None,
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
            runs = store.runs(
                environment=env,
                limit=limit,
                command=command,
                result=result,
                since=_since(since) if since else None,
            )
    if json:
        emit_json({"runs": [vars(r) for r in runs]})
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Started", "Actor", "Command", "Environment", "Target", "Result", "Duration"):
        # Long actors (emails) and targets (URLs) fold; times and results stay on one line.
        table.add_column(column, no_wrap=column in ("Started", "Result", "Duration"))
    table.add_column("Error")
    notes = any(r.note for r in runs)
    if notes:
        table.add_column("Why")
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
            *([escape(r.note or "")] if notes else []),
        )
    out = console()
    out.print(table if runs else "no runs recorded yet")


def _since(text: str) -> str:
    """An ISO time the store compares with: a date/time as given, or a span back from now."""
    import re
    from datetime import UTC, datetime, timedelta

    from dbfleet.errors import DbfleetError

    span = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if span:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[span[2]]
        when = datetime.now(UTC) - timedelta(**{unit: int(span[1])})
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DbfleetError(
            f"--since {text}: not a date, time or span", hint="e.g. 2026-11-01, 7d or 12h"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.isoformat(timespec="milliseconds") + "Z"  # as the store writes times
