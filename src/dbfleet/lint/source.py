"""A script as lint sees it: its text, its statements with their places, and line/column maps."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from dbfleet.engines.base import Statement

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


def skip_trivia(text: str, pos: int, nested: bool, hash_comments: bool) -> int:
    """The index of the first character at or after `pos` that is not blank or comment.

    `nested`: block comments nest (PostgreSQL); `hash_comments`: "#" starts a line comment
    (MariaDB). An unterminated comment runs to the end (the splitter reports it)."""
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch.isspace():
            pos += 1
        elif text.startswith("--", pos) or (hash_comments and ch == "#"):
            newline = text.find("\n", pos)
            pos = n if newline < 0 else newline + 1
        elif text.startswith("/*", pos):
            depth, pos = 1, pos + 2
            while depth and pos < n:
                if text.startswith("*/", pos):
                    depth, pos = depth - 1, pos + 2
                elif nested and text.startswith("/*", pos):
                    depth, pos = depth + 1, pos + 2
                else:
                    pos += 1
        else:
            return pos
    return n


def locate(
    script: str, statements: list[Statement], nested: bool = False, hash_comments: bool = False
) -> list[Located]:
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
        end = start + len(stmt.text)
        found.append(
            Located(stmt, start, min(skip_trivia(script, start, nested, hash_comments), end))
        )
        cursor = end
    return found
