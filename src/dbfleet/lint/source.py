"""A script as lint sees it: its text, its statements with their places, and line/column maps."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from dbfleet.engines.base import Dialect, Statement

_MAX_SHOWN = 200  # a 10 MB one-line file is shown as its first characters around the caret


@dataclass(frozen=True)
class Located:
    """A statement and the index in the script where its text (leading comments included)
    starts, and where its code starts."""

    statement: Statement
    start: int
    code_start: int


class Lines:
    """Offset -> (line, column) in a script, both 1-based; column counts characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        find = text.find
        pos = find("\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = find("\n", pos + 1)

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def line(self, number: int) -> str:
        if number < 1 or number > len(self.starts):
            return ""
        start = self.starts[number - 1]
        end = self.starts[number] - 1 if number < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r")[:_MAX_SHOWN]


def locate(script: str, statements: list[Statement], dialect: Dialect) -> list[Located]:
    """Where each statement's text stands in `script` (splitters give the text and line only).

    Each statement text is a verbatim slice of the script, in order, so searching from the end
    of the previous one finds it exactly.
    """
    found = []
    cursor = 0
    for stmt in statements:
        start = script.find(stmt.text, cursor)
        if start < 0:  # not a verbatim slice (cannot happen with the engine splitters)
            start = cursor
        noise = dialect.leading_noise.match(stmt.text)
        found.append(Located(stmt, start, start + (len(noise[0]) if noise else 0)))
        cursor = start + len(stmt.text)
    return found
