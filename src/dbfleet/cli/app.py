"""The root `dbfleet` command: global options and the registry of command groups."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from dbfleet import __version__
from dbfleet.errors import ConfigError

app = typer.Typer(
    name="dbfleet",
    help="Ship database changes like code: versioned migrations on PostgreSQL, SQLite and MariaDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Globals:
    """Options given before the command, shared by every command."""

    project_dir: Path | None = None
    config: Path | None = None
    debug: bool = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dbfleet {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    project_dir: Annotated[
        Path | None, typer.Option("--project", "-C", help="Run as if started in this folder.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="The dbfleet.toml to use (default: nearest).")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    if project_dir is not None:
        # As `git -C`: everything relative (output files, --config) is relative to that folder.
        try:
            os.chdir(project_dir)
        except OSError as exc:
            raise ConfigError(f"--project {project_dir}: {exc.strerror}") from None
    ctx.obj = Globals(None, config, debug)


# Which module registers which command. A command line imports only the module of the command
# it names (a command module's imports cost start-up time on every run); help, a typo or
# anything unclear imports them all, in this order (the order of `dbfleet --help`).
COMMAND_MODULES = {
    "init": "project",
    "status": "migrate",
    "info": "migrate",
    "migrate": "migrate",
    "validate": "migrate",
    "baseline": "migrate",
    "repair": "migrate",
    "undo": "migrate",
    "inspect": "inspect",
    "diff": "diff",
    "generate": "diff",
    "drift": "drift",
    "plan": "plan",
    "apply": "plan",
    "approve": "approve",
    "approvals": "approve",
    "lint": "lint",
    "check": "check",
    "test": "sqltest",
    "fleet": "fleet",
    "maintain": "fleet",
    "history": "history",
    "pipeline": "pipeline",
    "ci": "ci",
    "schema": "schema",
}


def load_commands(name: str | None = None) -> typer.Typer:
    """`app` with the command `name` registered (every command when `name` is None/unknown)."""
    from importlib import import_module

    known = COMMAND_MODULES.get(name or "")
    for module in [known] if known else dict.fromkeys(COMMAND_MODULES.values()):
        import_module(f"dbfleet.cli.{module}")
    return app


__all__ = ["COMMAND_MODULES", "Globals", "app", "load_commands"]
