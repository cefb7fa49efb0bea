"""`dbfleet check --base REF`: git-aware checks of a pull request's migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_json, emit_text, info


@app.command()
def check(
    ctx: typer.Context,
    base: Annotated[
        str,
        typer.Option(
            "--base", help="The branch, tag or commit the change goes into, e.g. origin/main."
        ),
    ],
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Compare the migrations here (the working tree) with those on --base, using git only.

    Exit 2 when merged V/U files were edited, deleted or renamed, or new versions clash.
    """
    from dbfleet.config import load_project
    from dbfleet.pipeline.check import check_against

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    report = check_against(project, base)
    short = report.merge_base[:12]
    if json_output:
        emit_json(report.to_data())
    else:
        if report.problems:
            emit_text("\n".join(str(p) for p in report.problems))
        for note in report.notes:
            info(f"note: {note}")
        count = len(report.problems)
        if count:
            info(
                f"{count} problem{'s' if count != 1 else ''} against {base} "
                f"(this branch started at {short})"
            )
        else:
            info(
                f"no problems against {base}: {report.compared} migration files compared "
                f"(this branch started at {short})"
            )
    if report.problems:
        raise typer.Exit(2)
