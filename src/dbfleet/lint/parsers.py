"""The parser interface lint uses, and which parser serves which engine (data, not `if`s)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Protocol

from dbfleet.lint.ops import Op


@dataclass(frozen=True)
class SyntaxProblem:
    """The parser's complaint and the 0-based character of the statement it points at."""

    message: str
    offset: int


@dataclass(frozen=True)
class Parsed:
    ops: tuple[Op, ...] = ()
    problem: SyntaxProblem | None = None


class Parser(Protocol):
    def parse(self, text: str) -> Parsed: ...


# Engine name -> module with a PARSER; imported only when that engine is linted.
_MODULES = {
    "postgresql": "dbfleet.lint.parse_postgres",
    "sqlite": "dbfleet.lint.parse_sqlglot",
    "mysql": "dbfleet.lint.parse_sqlglot",
}


def parser_for(engine: str) -> Parser:
    module = import_module(_MODULES[engine])
    return module.parser(engine)  # type: ignore[no-any-return]
