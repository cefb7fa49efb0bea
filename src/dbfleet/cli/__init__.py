"""The `dbfleet` command line: a thin layer that parses arguments, calls the core, renders."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typer import Typer


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: errors become one line and an exit code, never a traceback."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):  # answered before anything heavy is imported
        from dbfleet import __version__

        print(f"dbfleet {__version__}")
        return
    debug = "--debug" in args
    from dbfleet.errors import DbfleetError

    try:
        from dbfleet.cli.app import app

        _only_the_command(app, args)(args=args, prog_name="dbfleet")
    except DbfleetError as exc:
        if debug:
            raise
        from dbfleet.cli.output import emit_json, error

        error(str(exc))
        if "--json" in args:  # machines reading stdout get the error too
            emit_json({"error": exc.message, "hint": exc.hint})
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        from dbfleet.cli.output import error

        error("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: still no traceback (and no secret) unless --debug
        if debug:
            raise
        from dbfleet.cli.output import error

        error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        sys.exit(1)


# Global options (see cli/app.py) that take a value, and those that do not.
_GLOBAL_WITH_VALUE = ("-C", "--project", "--config")
_GLOBAL_FLAGS = ("--debug", "-h", "--help", "-V", "--version")


def _command_name(args: list[str]) -> str | None:
    """The command the arguments name, or None when unsure (then every command is built)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _GLOBAL_WITH_VALUE:
            skip = True
        elif arg.startswith(("--project=", "--config=")) or arg in _GLOBAL_FLAGS:
            continue
        elif arg.startswith("-"):
            return None  # an option this parser does not know: leave it all to typer
        else:
            return arg
    return None


def _only_the_command(app: Typer, args: list[str]) -> Typer:
    """`app` with just the command `args` name, when they name one.

    Typer builds every registered command's parameters from its signature (annotations
    evaluated, defaults inspected) on each start, about 1 ms per command; a run needs one.
    Help, unknown commands and anything unclear get the whole app.
    """
    import copy

    from typer.main import get_command_name

    name = _command_name(args)
    if name is None or any(group.name == name for group in app.registered_groups):
        return app
    chosen = [
        info
        for info in app.registered_commands
        if (info.name or get_command_name(getattr(info.callback, "__name__", ""))) == name
    ]
    if not chosen:
        return app
    view = copy.copy(app)  # the app itself stays whole for the next call (tests call main often)
    view.registered_commands = chosen
    return view
