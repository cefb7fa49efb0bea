"""`dbfleet drift`: what was changed in a target outside its migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_json, emit_text, info
from dbfleet.errors import DbfleetError


@app.command()
def drift(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="The environment (default from config).")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="A database URL instead.")] = None,
    fix_sql: Annotated[
        Path | None,
        typer.Option("--fix-sql", help="Write the SQL that brings the target back ('-': stdout)."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="text, json, md or html (one page).")
    ] = "text",
    json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Compare the live schema with the one its applied migrations produce; exit 2 on drift."""
    from dbfleet.config import load_project
    from dbfleet.diff.script import render_markdown, render_sql, to_data
    from dbfleet.plan.drift import detect_drift

    if json_output:
        format = "json"
    if format not in ("text", "json", "md", "html"):
        raise DbfleetError(f"--format {format}: not a format", hint="use text, json, md or html")
    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    environment = project.environment(env, url=url)
    report = detect_drift(project, environment)
    where = f"{environment.name} ({environment.url.display})"
    version = report.version or "nothing applied"
    if format == "json":
        emit_json(
            {
                "environment": environment.name,
                "version": report.version,
                "drifted": report.drifted,
                "differences": [d.to_data() for d in report.differences()],
                "fix": to_data(report.fix),
            }
        )
    elif format == "md":
        emit_text(render_markdown(report.fix, f"Drift of {environment.name} at {version}"))
    elif format == "html":
        from dbfleet.report.html import render_drift_html

        emit_text(render_drift_html(report, environment.name, environment.url.display))
    elif not report.drifted:
        info(f"no drift: {where} matches its migrations at {version}")
    else:
        lines = [f"drift in {where}: the migrations at {version} produce another schema"]
        lines += [f"  {d.kind} {d.name}: {d.what}" for d in report.differences()]
        emit_text("\n".join(lines))
    if fix_sql is not None:
        text = render_sql(
            report.fix, f"dbfleet drift --fix-sql: back to the migrations at {version}"
        )
        if str(fix_sql) == "-":
            emit_text(text)
        else:
            fix_sql.write_text(text, encoding="utf-8")
            info(f"wrote {fix_sql}")
    if report.drifted:
        raise typer.Exit(2)
