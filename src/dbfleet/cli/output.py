"""How the CLI shows things: Rich for people, JSON for machines, one red line for errors."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from dbfleet.secrets import redact

if TYPE_CHECKING:
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output is read by people in CI logs too: do not squeeze tables into 80 columns.
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def error(message: str) -> None:
    from rich.text import Text

    text = Text("error: ", style="bold red")
    text.append(redact(message))
    console(stderr=True).print(text)


def info(message: str) -> None:
    """A line for people; goes to stderr when stdout carries data (JSON, SQL)."""
    from rich.text import Text

    console(stderr=True).print(Text(redact(message)))


def emit_json(data: Any) -> None:
    sys.stdout.write(redact(json.dumps(data, indent=2, default=str)) + "\n")


def emit_text(text: str) -> None:
    sys.stdout.write(redact(text))
    if not text.endswith("\n"):
        sys.stdout.write("\n")
