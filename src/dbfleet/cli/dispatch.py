"""Start-up help for the CLI entry point: build only the command a command line runs."""

from __future__ import annotations

import copy

from typer import Typer
from typer.main import get_command_name

# Global options (see cli/app.py) that take a value, and those that do not.
_GLOBAL_WITH_VALUE = ("-C", "--project", "--config")
_GLOBAL_FLAGS = ("--debug", "-h", "--help", "-V", "--version")


def command_name(args: list[str]) -> str | None:
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


def only_the_command(app: Typer, args: list[str]) -> Typer:
    """`app` with just the command `args` name, when they name one.

    Typer builds every registered command's parameters from its signature (annotations
    evaluated, defaults inspected) on each start, about 1 ms per command; a run needs one.
    Help, unknown commands and anything unclear get the whole app.
    """
    name = command_name(args)
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
