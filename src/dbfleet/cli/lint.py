"""`dbfleet lint`: syntax and safety checks of migration scripts, as text, JSON, SARIF, JUnit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_text
from dbfleet.errors import ConfigError

FORMATS = ("text", "json", "sarif", "junit", "github")


class LintFailed(Exception):
    """Raised to leave with exit code 3 after the report was written."""


@app.command()
def lint(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to lint (default: the project's migrations)."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="text, json, sarif, junit or github.")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", "-e", help="Read table sizes and history from this environment."),
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option("--changed-since", help="Lint only migrations added or modified since REF."),
    ] = None,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Explain a rule (DF201 or its name) and exit.")
    ] = None,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="List every rule.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Check migrations with the engine's own parser and schema-aware safety rules.

    Exit 3 when an error-severity finding remains (not suppressed), 0 otherwise.
    """
    from dbfleet.lint import report

    if list_rules:
        emit_text(report.list_rules())
        return
    if explain is not None:
        text = report.explain(explain)
        if text is None:
            raise ConfigError(
                f"--explain {explain}: no such rule", hint="`dbfleet lint --list-rules` lists them"
            )
        emit_text(text)
        return
    if json:
        format = "json"
    if format not in FORMATS:
        raise ConfigError(f"--format {format}: unknown format", hint="use " + ", ".join(FORMATS))
    from dbfleet.config import load_project
    from dbfleet.lint.run import Options
    from dbfleet.lint.run import lint as run_lint

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    result = run_lint(
        project, Options(paths=tuple(paths or ()), changed_since=changed_since, env=env)
    )
    if format == "text":
        color = output is None and sys.stdout.isatty()
        text = report.render_text(result, color=color)
    else:
        text = report.RENDERERS[format](result)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--output {output}: {exc.strerror}") from None
        sys.stderr.write(f"lint report written to {output}\n")
    else:
        emit_text(text)
    if result.failed:
        raise typer.Exit(3)
