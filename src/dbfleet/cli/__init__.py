"""The `dbfleet` command line: a thin layer that parses arguments, calls the core, renders."""

from __future__ import annotations

import sys


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
        from dbfleet.cli.app import load_commands
        from dbfleet.cli.dispatch import command_name, only_the_command

        app = load_commands(command_name(args))
        only_the_command(app, args)(args=args, prog_name="dbfleet")
    except DbfleetError as exc:
        if debug:
            raise
        from dbfleet.cli.output import emit_json, error

        error(str(exc))
        if _wants_json(args):  # machines reading stdout get the error too
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


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON on stdout: --json, or -f/--format json."""
    from itertools import pairwise

    return (
        "--json" in args
        or "--format=json" in args
        or any(a in ("-f", "--format") and b == "json" for a, b in pairwise(args))
    )
