"""How the CLI shows things: Rich for people, JSON for machines, one red line for errors."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from dbfleet.secrets import redact

if TYPE_CHECKING:
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output is read by people in CI logs too: do not squeeze tables into 80 columns.
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _styled(text: str, ansi: str, stream: TextIO) -> str:
    # Plain ANSI instead of Rich: these lines are printed by every command, and importing Rich
    # costs more start-up time than the rest of a no-op migrate.
    return (
        f"\033[{ansi}m{text}\033[0m" if stream.isatty() and "NO_COLOR" not in os.environ else text
    )


def error(message: str) -> None:
    """The one line a failing command prints: what is wrong and what to do."""
    sys.stderr.write(_styled("error:", "1;31", sys.stderr) + " " + redact(message) + "\n")


def info(message: str) -> None:
    """A line for people; goes to stderr when stdout carries data (JSON, SQL)."""
    sys.stderr.write(redact(message) + "\n")


def emit_json(data: Any) -> None:
    sys.stdout.write(redact(json.dumps(data, indent=2, default=str)) + "\n")


def emit_text(text: str) -> None:
    sys.stdout.write(redact(text))
    if not text.endswith("\n"):
        sys.stdout.write("\n")


def markdown_cell(text: object) -> str:
    """Text for a Markdown table cell (or a one-line quote): a pipe would end the cell and a
    newline the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")
