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


from dbfleet.cli import diff as _diff  # noqa: E402  (registers commands on `app`)
from dbfleet.cli import drift as _drift  # noqa: E402
from dbfleet.cli import fleet as _fleet  # noqa: E402  (fleet, maintain)
from dbfleet.cli import history as _history  # noqa: E402
from dbfleet.cli import inspect as _inspect  # noqa: E402
from dbfleet.cli import lint as _lint  # noqa: E402
from dbfleet.cli import migrate as _migrate  # noqa: E402
from dbfleet.cli import plan as _plan  # noqa: E402  (plan, apply)
from dbfleet.cli import project as _project  # noqa: E402
from dbfleet.cli import sqltest as _sqltest  # noqa: E402

__all__ = [
    "Globals",
    "_diff",
    "_drift",
    "_fleet",
    "_history",
    "_inspect",
    "_lint",
    "_migrate",
    "_plan",
    "_project",
    "_sqltest",
    "app",
]
