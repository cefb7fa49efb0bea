"""SQLite and MariaDB statements -> lint operations, through sqlglot's dialect parsers.

sqlglot is forgiving (it falls back to an opaque command for syntax it does not model), so for
SQLite the syntax verdict comes from SQLite itself: each statement is prepared (EXPLAIN) in an
empty in-memory database, and only its syntax complaints count; "no such table" is not one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from dbfleet.lint.ops import Column, Op, TypeFamily
from dbfleet.lint.parsers import Parsed, SyntaxProblem

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to a Command" is noise here

# Statements above this size get the syntax check only: sqlglot's tokenizer is pure Python.
_MAX_AST_CHARS = 1_000_000
_SQLITE_SYNTAX = ("syntax error", "incomplete input", "unrecognized token")
_MYSQL_TYPES: dict[str, TypeFamily] = {
    "SMALLINT": "int16", "INT": "int32", "MEDIUMINT": "int32", "BIGINT": "int64",
    "VARCHAR": "varchar", "CHAR": "char", "TEXT": "text",
}  # fmt: skip


def _table(node: Any) -> str | None:
    table = node if isinstance(node, exp.Table) else node.find(exp.Table) if node else None
    return table.name.lower() if table is not None and table.name else None


class SqlglotParser:
    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.dialect = "sqlite" if engine == "sqlite" else "mysql"
        # Convention rules on types only mean something where types are strict (not SQLite).
        self.types = _MYSQL_TYPES if engine == "mysql" else {}
        self._sqlite = sqlite3.connect(":memory:") if engine == "sqlite" else None

    def parse(self, text: str) -> Parsed:
        problem = self._sqlite_syntax(text)
        if problem is not None:
            return Parsed(problem=problem)
        if len(text) > _MAX_AST_CHARS:
            return Parsed((Op("other"),))
        try:
            trees = sqlglot.parse(text, read=self.dialect)
        except (ParseError, TokenError) as exc:
            if self._sqlite is not None:  # SQLite accepted it: sqlglot just does not model it
                return Parsed((Op("other"),))
            return Parsed(problem=_problem(exc, text))
        ops = [op for tree in trees if tree is not None for op in self._ops(tree)]
        return Parsed(tuple(ops))

    def _sqlite_syntax(self, text: str) -> SyntaxProblem | None:
        if self._sqlite is None:
            return None
        try:
            self._sqlite.execute("EXPLAIN " + text)
        except sqlite3.Warning:  # "You can only execute one statement at a time."
            return None
        except sqlite3.Error as exc:
            message = str(exc)
            if any(marker in message for marker in _SQLITE_SYNTAX):
                return SyntaxProblem(message, self._near(text, message))
        except ValueError as exc:  # NUL characters
            return SyntaxProblem(str(exc), 0)
        return None

    def _near(self, text: str, message: str) -> int:
        """Where the token SQLite stopped at ('near "frm": syntax error') stands.

        The token may occur earlier too: the first occurrence whose prefix of the statement
        already fails with the same message is the one."""
        assert self._sqlite is not None
        if "incomplete input" in message:
            return len(text.rstrip())
        if 'near "' not in message:
            return 0
        token = message.split('near "', 1)[1].rsplit('"', 1)[0]
        found = text.find(token)
        first, tries = found, 0
        while found >= 0 and tries < 50:  # a 10 MB statement must not take minutes
            tries += 1
            try:
                self._sqlite.execute("EXPLAIN " + text[: found + len(token)])
            except sqlite3.Error as exc:
                if str(exc) == message:
                    return found
            except (sqlite3.Warning, ValueError):
                pass
            found = text.find(token, found + 1)
        return max(first, 0)

    def _column(self, node: exp.ColumnDef) -> Column:
        kind = node.args.get("kind")
        type_name = kind.this.name if isinstance(kind, exp.DataType) else ""
        family = self.types.get(type_name, "other")
        length = None
        if family in ("varchar", "char") and isinstance(kind, exp.DataType) and kind.expressions:
            try:
                length = int(kind.expressions[0].name)
            except ValueError:
                length = None
        constraints = [c.args.get("kind") for c in node.args.get("constraints") or ()]
        not_null = any(
            isinstance(c, exp.NotNullColumnConstraint) and not c.args.get("allow_null")
            for c in constraints
        )
        pk = any(isinstance(c, exp.PrimaryKeyColumnConstraint) for c in constraints)
        default = next((c for c in constraints if isinstance(c, exp.DefaultColumnConstraint)), None)
        auto = any(
            isinstance(
                c, exp.AutoIncrementColumnConstraint | exp.GeneratedAsIdentityColumnConstraint
            )
            for c in constraints
        )
        volatile = default is not None and any(
            isinstance(f, exp.Anonymous | exp.Rand) for f in default.walk()
        )
        return Column(
            node.name,
            family,
            length,
            not_null or pk,
            default is not None or auto,
            volatile,
            primary_key=pk,
            identity=auto,
        )

    def _ops(self, tree: Any) -> Iterator[Op]:
        if isinstance(tree, exp.Create):
            kind = str(tree.args.get("kind") or "").upper()
            if kind == "TABLE":
                schema = tree.this
                cols = tuple(self._column(c) for c in schema.find_all(exp.ColumnDef))
                has_pk = any(c.primary_key for c in cols) or schema.find(exp.PrimaryKey) is not None
                yield Op(
                    "create_table",
                    table=_table(schema),
                    columns=cols,
                    has_primary_key=has_pk or tree.args.get("expression") is not None,
                    if_not_exists=bool(tree.args.get("exists")),
                    temporary=tree.find(exp.TemporaryProperty) is not None,
                )
            elif kind == "INDEX":
                index = tree.this
                yield Op(
                    "create_index",
                    table=_table(index.args.get("table")),
                    name=index.name or None,
                    concurrent=None,
                    if_not_exists=bool(tree.args.get("exists")),
                    unique=bool(tree.args.get("unique")),
                )
            elif kind == "VIEW":
                query = tree.expression
                tables = (
                    tuple(sorted({t.name.lower() for t in query.find_all(exp.Table)}))
                    if query is not None
                    else ()
                )
                columns = set()
                if query is not None:
                    columns = {c.name for c in query.find_all(exp.Column) if c.name}
                    columns |= {"*" for _ in query.find_all(exp.Star)}
                yield Op(
                    "create_view",
                    table=_table(tree.this),
                    tables=tables,
                    or_replace=bool(tree.args.get("replace")),
                    if_not_exists=bool(tree.args.get("exists")),
                    extra=tuple(("column", c) for c in sorted(columns)),
                )
            else:
                yield Op(
                    "create_other",
                    or_replace=bool(tree.args.get("replace")),
                    if_not_exists=bool(tree.args.get("exists")),
                    object_kind=kind.lower(),
                )
        elif isinstance(tree, exp.Drop):
            kind = str(tree.args.get("kind") or "").upper()
            if kind == "TABLE":
                for table in tree.args.get("tables") or [tree.this]:
                    yield Op(
                        "drop_table",
                        table=_table(table),
                        if_exists=bool(tree.args.get("exists")),
                        cascade=bool(tree.args.get("cascade")),
                    )
            elif kind == "INDEX":
                yield Op(
                    "drop_index",
                    name=tree.this.name if tree.this else None,
                    concurrent=None,
                    if_exists=bool(tree.args.get("exists")),
                )
            elif kind in ("SCHEMA", "DATABASE"):
                # In MariaDB a schema is a database.
                yield Op(
                    "drop_database"
                    if kind == "DATABASE" or self.engine == "mysql"
                    else "drop_schema",
                    name=tree.this.name if tree.this else None,
                )
            else:
                target = tree.this or next(iter(tree.args.get("tables") or []), None)
                name = target.name.lower() if target is not None and target.name else None
                yield Op(
                    "drop_other",
                    name=name,
                    if_exists=bool(tree.args.get("exists")),
                    object_kind=kind.lower(),
                )
        elif isinstance(tree, exp.Alter):
            yield from self._alter(tree)
        elif isinstance(tree, exp.TruncateTable):
            tables = tuple(t.name.lower() for t in tree.expressions)
            yield Op(
                "truncate",
                table=tables[0] if tables else None,
                tables=tables,
                cascade=bool(tree.args.get("cascade")),
            )
        elif isinstance(tree, exp.Delete | exp.Update):
            yield Op(
                "delete" if isinstance(tree, exp.Delete) else "update",
                table=_table(tree.this),
                has_where=tree.args.get("where") is not None,
            )
        elif isinstance(tree, exp.Transaction):
            yield Op("begin")
        elif isinstance(tree, exp.Commit):
            yield Op("commit")
        elif isinstance(tree, exp.Rollback):
            yield Op("rollback")
        elif isinstance(tree, exp.Set):
            for item in tree.expressions:
                inner = item.this if isinstance(item, exp.SetItem) else item
                name = inner.this if isinstance(inner, exp.EQ) else inner
                yield Op("set", setting=name.name.lower() if hasattr(name, "name") else None)
        elif isinstance(tree, exp.Command):
            head = str(tree.this).upper()
            if head == "LOCK":
                yield Op("lock_table")
            elif head == "START" and "TRANSACTION" in str(tree.expression or "").upper():
                yield Op("begin")
            else:
                yield Op("other")
        else:
            yield Op("other")

    def _alter(self, tree: exp.Alter) -> Iterator[Op]:
        table = _table(tree.this)
        for action in tree.args.get("actions") or ():
            if isinstance(action, exp.ColumnDef):
                col = self._column(action)
                yield Op(
                    "add_column",
                    table=table,
                    name=col.name,
                    column=col,
                    if_not_exists=bool(action.args.get("exists")),
                )
            elif isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "COLUMN":
                for column in action.args.get("tables") or [action.this]:
                    yield Op("drop_column", table=table, name=column.name)
            elif isinstance(action, exp.AlterRename):
                yield Op("rename_table", table=table, new_name=_table(action.this))
            elif isinstance(action, exp.RenameColumn):
                yield Op(
                    "rename_column",
                    table=table,
                    name=action.this.name,
                    new_name=action.args["to"].name,
                )
            elif isinstance(action, exp.AddConstraint):
                kinds = {type(e).__name__ for e in action.walk()}
                kind = (
                    "foreign_key"
                    if "ForeignKey" in kinds
                    else "unique"
                    if "UniqueColumnConstraint" in kinds
                    else "primary_key"
                    if "PrimaryKey" in kinds
                    else "check"
                    if "CheckColumnConstraint" in kinds
                    else "other"
                )
                yield Op("add_constraint", table=table, constraint=kind, not_valid=None)
            elif type(action).__name__ in ("AlterColumn", "ModifyColumn", "ChangeColumn"):
                dtype = action.args.get("dtype") or action.find(exp.DataType)
                name = action.this.name if action.this is not None else None
                if isinstance(dtype, exp.DataType) and name:
                    family = self.types.get(dtype.this.name, "other")
                    yield Op(
                        "alter_column_type", table=table, name=name, column=Column(name, family)
                    )
                else:
                    yield Op("other", table=table)
            else:
                yield Op("other", table=table)


def _problem(exc: ParseError | TokenError, text: str) -> SyntaxProblem:
    errors = getattr(exc, "errors", None) or []
    if errors:
        first = errors[0]
        line, col = int(first.get("line") or 1), int(first.get("col") or 1)
        starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        offset = starts[min(line, len(starts)) - 1] + max(col - 1, 0)
        message = str(first.get("description") or exc).split("\n")[0]
        return SyntaxProblem(message, min(offset, len(text)))
    return SyntaxProblem(str(exc).split("\n")[0], 0)


def parser(engine: str) -> SqlglotParser:
    return SqlglotParser(engine)
