"""Read an SQLite database into the schema model: five catalog queries, whatever the table count."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from dbfleet.engines.base import Connection, StatementError
from dbfleet.engines.sqlite.dialect import DIALECT
from dbfleet.schema.model import Column, Constraint, Index, Model, Table, Trigger, View, attrs

SCHEMA = "main"  # SQLite's "schemas" are attached databases; dbfleet manages the main one

q = DIALECT.quote_ident

# Catalog queries. Each joins sqlite_master with a pragma table-valued function, so one query
# covers every table. Virtual tables are kept away from the pragmas: reading their columns
# needs their module, which may not be loaded. The "main" argument stops a temp table of the
# same name from shadowing the real one.
_USER_TABLES = (
    "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
    "AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%'"
)
OBJECTS_QUERY = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
TABLE_LIST_QUERY = "SELECT name, type FROM pragma_table_list WHERE schema = 'main'"
COLUMNS_QUERY = f"""
SELECT m.name AS table_name, c.cid, c.name, c.type, c."notnull" AS not_null,
       c.dflt_value AS "default", c.pk, c.hidden
FROM sqlite_master AS m, pragma_table_xinfo(m.name, 'main') AS c
WHERE {_USER_TABLES}
ORDER BY m.name, c.cid
"""
FOREIGN_KEYS_QUERY = f"""
SELECT m.name AS table_name, f.id, f.seq, f."table" AS ref_table, f."from" AS column,
       f."to" AS ref_column, f.on_update, f.on_delete, f."match"
FROM sqlite_master AS m, pragma_foreign_key_list(m.name, 'main') AS f
WHERE {_USER_TABLES}
ORDER BY m.name, f.id, f.seq
"""
INDEXES_QUERY = f"""
SELECT m.name AS table_name, i.name, i."unique", i.partial, x.seqno, x.cid,
       x.name AS column, x.key
FROM sqlite_master AS m, pragma_index_list(m.name, 'main') AS i,
     pragma_index_xinfo(i.name, 'main') AS x
WHERE {_USER_TABLES} AND i.origin = 'c'
ORDER BY m.name, i.name, x.seqno
"""

# Tables SQLite creates for itself; everything else named sqlite_* is reported.
_INTERNAL_TABLE = re.compile(r"sqlite_(sequence|stat\d+)", re.IGNORECASE)

# --- tokens -------------------------------------------------------------------------------------

# SQLite's tokens, enough to find clause boundaries: whitespace and comments, blobs, words
# (identifiers and keywords: letters, digits, "_", "$" and any non-ASCII character), strings,
# quoted identifiers, numbers and operators.
_TOKEN = re.compile(
    r"""
      (?P<space>\s+|--[^\n]*|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z))
    | (?P<blob>[xX]'[^']*')
    | (?P<word>(?:[A-Za-z_]|[^\x00-\x7f])(?:[\w$]|[^\x00-\x7f])*)
    | (?P<string>'(?:[^']|'')*')
    | (?P<quoted>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    | (?P<number>(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?))
    | (?P<op>\|\||->>|->|<<|>>|<=|>=|==|!=|<>|.)
    """,
    re.VERBOSE | re.DOTALL,
)

# SQLite folds only ASCII letters when it compares names.
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(name: str) -> str:
    """The name as SQLite compares it (case-insensitive for ASCII letters only)."""
    return name.translate(_FOLD)


class Token(NamedTuple):
    kind: str  # "string" | "quoted" | "blob" | "word" | "number" | "op"
    text: str
    start: int
    end: int
    keyword: str  # the word in upper case; "" for other tokens

    @property
    def is_name(self) -> bool:
        """A token SQLite accepts where it expects a name (a string too, for old times' sake)."""
        return self.kind in ("word", "quoted", "string")

    @property
    def name(self) -> str:
        if self.kind == "word":
            return self.text
        body = self.text[1:-1]
        if self.text[0] == "[":
            return body
        return body.replace(self.text[0] * 2, self.text[0])


def tokens(sql: str) -> list[Token]:
    """The tokens of `sql`, without whitespace and comments."""
    out = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup or "op"
        if kind != "space":
            text = m.group()
            upper = text.upper() if kind == "word" else ""
            out.append(Token(kind, text, m.start(), m.end(), upper))
    return out


def trimmed(sql: str) -> str:
    """The statement up to the end of its last token: SQLite keeps a trailing comment in the
    text of some statements (CREATE INDEX, CREATE VIEW), where it would swallow the ";" a
    script appends, and it is no part of the object."""
    if "--" not in sql and "/*" not in sql:
        return sql.strip()
    found = tokens(sql)
    return sql[: found[-1].end].strip() if found else sql.strip()


class Unreadable(Exception):
    """A CREATE statement in a form this reader does not know."""


class _Reader:
    """A cursor over the tokens of one CREATE statement."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.toks = tokens(sql)
        self.i = 0

    def peek(self, ahead: int = 0) -> Token | None:
        k = self.i + ahead
        return self.toks[k] if k < len(self.toks) else None

    def keyword(self, ahead: int = 0) -> str:
        k = self.i + ahead
        return self.toks[k].keyword if k < len(self.toks) else ""

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text == text

    def accept(self, *words: str) -> bool:
        """Consume `words` (keywords, in a row) if they come next."""
        if self.keyword() != words[0]:
            return False
        if all(self.keyword(k) == w for k, w in enumerate(words[1:], 1)):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise Unreadable(f"expected {' '.join(words)} at {self._where()}")

    def expect_op(self, text: str) -> None:
        if not self.at(text):
            raise Unreadable(f"expected {text!r} at {self._where()}")
        self.i += 1

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise Unreadable("unexpected end of statement")
        self.i += 1
        return token

    def name(self) -> str:
        token = self.take()
        if not token.is_name:
            raise Unreadable(f"expected a name at {token.text!r}")
        return token.name

    def group(self) -> tuple[int, int]:
        """Consume "( ... )"; return the token range inside the parentheses."""
        self.expect_op("(")
        first = self.i
        depth = 1
        while depth:
            token = self.take()
            if token.kind == "op" and token.text == "(":
                depth += 1
            elif token.kind == "op" and token.text == ")":
                depth -= 1
        return first, self.i - 1

    def text(self, first: int, stop: int) -> str:
        """The source text of tokens [first, stop), as written."""
        if first >= stop:
            return ""
        return self.sql[self.toks[first].start : self.toks[stop - 1].end]

    def rest(self) -> str:
        return self.text(self.i, len(self.toks))

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def _where(self) -> str:
        token = self.peek()
        return repr(token.text) if token else "the end"


# --- CREATE TABLE -------------------------------------------------------------------------------


@dataclass
class _KeyPart:
    """One column of a PRIMARY KEY or UNIQUE constraint."""

    column: str
    collation: str | None = None
    descending: bool = False


@dataclass
class _ConstraintText:
    kind: str  # "primary key" | "unique" | "check" | "foreign key"
    name: str | None
    parts: list[_KeyPart] = field(default_factory=list)
    expression: str = ""  # of a check
    names: frozenset[str] = frozenset()  # the names a check's expression mentions, folded
    on_conflict: str | None = None
    autoincrement: bool = False
    deferrable: str | None = None  # as written, e.g. "DEFERRABLE INITIALLY DEFERRED"
    match: str | None = None  # of a foreign key; the pragma always says NONE


@dataclass
class _ColumnText:
    name: str
    collation: str | None = None
    generated: str | None = None
    not_null_on_conflict: str | None = None


@dataclass
class TableText:
    """What only the CREATE TABLE text holds (the pragmas know the rest)."""

    columns: list[_ColumnText] = field(default_factory=list)
    constraints: list[_ConstraintText] = field(default_factory=list)
    without_rowid: bool = False
    strict: bool = False


_COLUMN_CONSTRAINT = {
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "AS",
}
_TABLE_CONSTRAINT = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}
_ACTIONS = {"CASCADE", "RESTRICT"}


def read_table(sql: str) -> TableText:
    """The parts of a CREATE TABLE statement that no pragma reports."""
    r = _Reader(sql)
    r.expect("CREATE", "TABLE")
    r.accept("IF", "NOT", "EXISTS")
    r.name()
    if r.at("."):
        r.take()
        r.name()
    r.expect_op("(")
    out = TableText()
    while not _starts_table_constraint(r):
        out.columns.append(_column_text(r, out.constraints))
        if r.at(","):
            r.take()
            continue
        break
    while not r.at(")"):
        if r.at(","):  # SQLite also accepts table constraints without commas between them
            r.take()
        constraint = _table_constraint(r)
        if constraint is not None:
            out.constraints.append(constraint)
    r.expect_op(")")
    while not r.done():
        if r.accept("WITHOUT"):
            if r.name().upper() != "ROWID":
                raise Unreadable("expected WITHOUT ROWID")
            out.without_rowid = True
        elif r.accept("STRICT"):
            out.strict = True
        else:
            r.expect_op(",")
    return out


def _starts_table_constraint(r: _Reader) -> bool:
    token = r.peek()
    return token is not None and token.kind == "word" and token.keyword in _TABLE_CONSTRAINT


def _starts_column_constraint(r: _Reader) -> bool:
    word = r.keyword()
    return word in _COLUMN_CONSTRAINT or (word == "GENERATED" and r.keyword(1) == "ALWAYS")


def _column_text(r: _Reader, constraints: list[_ConstraintText]) -> _ColumnText:
    column = _ColumnText(r.name())
    # The declared type runs until the first column constraint (the pragma reports its text).
    while not (r.done() or r.at(",") or r.at(")") or _starts_column_constraint(r)):
        if r.at("("):
            r.group()
        else:
            r.take()
    while True:
        name = r.name() if r.accept("CONSTRAINT") else None
        if r.accept("PRIMARY", "KEY"):
            part = _KeyPart(column.name, descending=_order(r))
            pk = _ConstraintText("primary key", name, [part], on_conflict=_on_conflict(r))
            pk.autoincrement = r.accept("AUTOINCREMENT")
            constraints.append(pk)
        elif r.accept("NOT", "NULL"):
            column.not_null_on_conflict = _on_conflict(r)
        elif r.accept("NULL"):
            _on_conflict(r)
        elif r.accept("UNIQUE"):
            part = _KeyPart(column.name)
            constraints.append(_ConstraintText("unique", name, [part], on_conflict=_on_conflict(r)))
        elif r.keyword() == "CHECK":
            r.take()
            constraints.append(_check(r, name))
        elif r.accept("DEFAULT"):
            if r.at("+") or r.at("-"):
                r.take()
            if r.at("("):
                r.group()
            else:
                r.take()
        elif r.accept("COLLATE"):
            column.collation = r.name()
        elif r.accept("REFERENCES"):
            fk = _ConstraintText("foreign key", name, [_KeyPart(column.name)])
            _references(r, fk)
            constraints.append(fk)
        elif r.accept("GENERATED", "ALWAYS", "AS") or r.accept("AS"):
            column.generated = r.text(*r.group())
            if r.keyword() in ("STORED", "VIRTUAL"):
                r.take()
        elif r.keyword() in ("DEFERRABLE", "NOT") and any(
            c.kind == "foreign key" for c in constraints
        ):
            # A deferrable clause standing alone applies to the last foreign key so far.
            last = [c for c in constraints if c.kind == "foreign key"][-1]
            last.deferrable = _deferrable(r)
        else:
            return column  # SQLite accepts, and ignores, a CONSTRAINT name that names nothing


def _table_constraint(r: _Reader) -> _ConstraintText | None:
    name = r.name() if r.accept("CONSTRAINT") else None
    if name is not None and (r.at(",") or r.at(")")):
        return None  # a name that names nothing
    if r.accept("PRIMARY", "KEY") or r.keyword() == "UNIQUE":
        kind = "unique" if r.accept("UNIQUE") else "primary key"
        constraint = _ConstraintText(kind, name)
        r.expect_op("(")
        while True:
            part = _KeyPart(r.name())
            if r.accept("COLLATE"):
                part.collation = r.name()
            part.descending = _order(r)
            constraint.parts.append(part)
            if r.accept("AUTOINCREMENT"):
                constraint.autoincrement = True
            if not r.at(","):
                break
            r.take()
        r.expect_op(")")
        constraint.on_conflict = _on_conflict(r)
        return constraint
    if r.accept("CHECK"):
        constraint = _check(r, name)
        _on_conflict(r)  # accepted and ignored by SQLite on a check
        return constraint
    if r.accept("FOREIGN", "KEY"):
        constraint = _ConstraintText("foreign key", name)
        r.expect_op("(")
        while True:
            constraint.parts.append(_KeyPart(r.name()))
            if not r.at(","):
                break
            r.take()
        r.expect_op(")")
        r.expect("REFERENCES")
        _references(r, constraint)
        return constraint
    raise Unreadable(f"unknown table constraint at {r._where()}")


def _check(r: _Reader, name: str | None) -> _ConstraintText:
    first, stop = r.group()
    names = frozenset(fold(t.name) for t in r.toks[first:stop] if t.kind in ("word", "quoted"))
    return _ConstraintText("check", name, expression=r.text(first, stop), names=names)


def _order(r: _Reader) -> bool:
    """Consume ASC/DESC; True when descending."""
    if r.accept("DESC"):
        return True
    r.accept("ASC")
    return False


def _on_conflict(r: _Reader) -> str | None:
    if r.accept("ON", "CONFLICT"):
        return r.take().text.upper()
    return None


def _references(r: _Reader, fk: _ConstraintText) -> None:
    """The rest of a REFERENCES clause, for what the pragma does not report: DEFERRABLE and
    MATCH (parsed and ignored by SQLite, yet part of the schema)."""
    r.name()
    if r.at("("):
        r.group()
    while True:
        if r.keyword() == "ON" and r.keyword(1) in ("DELETE", "UPDATE", "INSERT"):
            r.i += 2
            if not (
                r.accept("SET", "NULL")
                or r.accept("SET", "DEFAULT")
                or r.accept("NO", "ACTION")
                or r.take().keyword in _ACTIONS
            ):
                raise Unreadable("unknown foreign key action")
        elif r.accept("MATCH"):
            fk.match = r.name().upper()
        elif r.keyword() == "DEFERRABLE" or (r.keyword() == "NOT" and r.keyword(1) == "DEFERRABLE"):
            fk.deferrable = _deferrable(r)
        else:
            return


def _deferrable(r: _Reader) -> str:
    words = ["NOT"] if r.accept("NOT") else []
    r.expect("DEFERRABLE")
    words.append("DEFERRABLE")
    if r.accept("INITIALLY"):
        words += ["INITIALLY", r.take().keyword]
    return " ".join(words)


# --- other CREATE statements --------------------------------------------------------------------


def read_view(sql: str) -> tuple[tuple[str, ...], str, list[Token]]:
    """(explicit column names, the query as written, the query's tokens) of a CREATE VIEW."""
    r = _Reader(sql)
    r.expect("CREATE", "VIEW")
    r.accept("IF", "NOT", "EXISTS")
    r.name()
    if r.at("."):
        r.take()
        r.name()
    columns: list[str] = []
    if r.at("("):
        first, stop = r.group()
        columns = [t.name for t in r.toks[first:stop] if t.is_name]
    r.expect("AS")
    return tuple(columns), r.rest(), r.toks[r.i :]


def read_index_predicate(sql: str) -> str | None:
    """The WHERE clause of a partial index, as written."""
    r = _Reader(sql)
    while not r.done() and not r.at("("):
        r.take()
    r.group()
    return r.rest() if r.accept("WHERE") else None


def read_trigger(sql: str) -> dict[str, Any]:
    """When a trigger fires: timing, event and the UPDATE OF columns."""
    r = _Reader(sql)
    r.expect("CREATE")
    if not r.accept("TEMP"):
        r.accept("TEMPORARY")
    r.expect("TRIGGER")
    r.accept("IF", "NOT", "EXISTS")
    r.name()
    if r.at("."):
        r.take()
        r.name()
    timing = "BEFORE"
    for option in (("BEFORE",), ("AFTER",), ("INSTEAD", "OF")):
        if r.accept(*option):
            timing = " ".join(option)
    event = r.take().keyword
    columns: list[str] = []
    if event == "UPDATE" and r.accept("OF"):
        columns.append(r.name())
        while r.at(","):
            r.take()
            columns.append(r.name())
    return {"timing": timing, "event": event, "columns": tuple(columns)}


def _virtual_module(sql: str) -> str:
    found = re.search(r"\bUSING\s+([\w$]+)", sql, re.IGNORECASE)
    return found.group(1) if found else "unknown module"


# --- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    """Names as they are, by folded name: a REFERENCES clause may spell them differently."""

    tables: dict[str, str]
    columns: dict[str, dict[str, str]]
    views: dict[str, str]

    def table(self, written: str) -> str:
        return self.tables.get(fold(written), written)

    def column(self, table: str, written: str) -> str:
        return self.columns.get(fold(table), {}).get(fold(written), written)


def inspect(conn: Connection, *, read: Callable[[str], TableText] | None = None) -> Model:
    """The main database as a Model (sqlite_sequence and sqlite_stat* left out).

    `read` reads a CREATE TABLE text (default: read_table); when it cannot, the table is
    modelled from the pragmas alone and a warning says so.
    """
    objects = conn.records(OBJECTS_QUERY)
    kinds = _table_kinds(conn, objects)
    columns = _grouped(conn.records(COLUMNS_QUERY), "table_name")
    foreign_keys = _grouped(conn.records(FOREIGN_KEYS_QUERY), "table_name")
    index_parts = _grouped(conn.records(INDEXES_QUERY), "name")

    warnings: list[str] = []
    table_rows = []
    virtual = [o for o in objects if kinds.get(o["name"]) == "virtual"]
    for o in objects:
        name = o["name"]
        kind = kinds.get(name, "table")
        if o["type"] != "table" or _INTERNAL_TABLE.fullmatch(name) or kind == "virtual":
            continue
        if kind == "shadow":
            if not any(fold(name).startswith(fold(v["name"]) + "_") for v in virtual):
                warnings.append(f"shadow table {SCHEMA}.{name} is not modelled (left out)")
        elif fold(name).startswith("sqlite_"):
            warnings.append(f"internal table {SCHEMA}.{name} is not modelled (left out)")
        else:
            table_rows.append(o)
    for v in virtual:
        shadows = [
            o["name"]
            for o in objects
            if kinds.get(o["name"]) == "shadow"
            and fold(o["name"]).startswith(fold(v["name"]) + "_")
        ]
        with_them = f", with its tables {', '.join(shadows)}" if shadows else ""
        warnings.append(
            f"virtual table {SCHEMA}.{v['name']} ({_virtual_module(v['sql'])}) is not modelled "
            f"(left out{with_them})"
        )
    view_rows = [o for o in objects if o["type"] == "view"]
    names = _Names(
        tables={fold(o["name"]): o["name"] for o in table_rows},
        columns={
            fold(o["name"]): {fold(c["name"]): c["name"] for c in columns[o["name"]]}
            for o in table_rows
        },
        views={fold(o["name"]): o["name"] for o in view_rows},
    )

    indexes: dict[str, list[Index]] = defaultdict(list)
    triggers: dict[str, list[Trigger]] = defaultdict(list)
    for o in objects:
        owner = fold(o["tbl_name"])
        if o["type"] == "index" and o["sql"] is not None:  # NULL: an autoindex of a constraint
            if owner in names.tables and o["name"] in index_parts:
                indexes[owner].append(_index(o, index_parts[o["name"]]))
            else:
                warnings.append(
                    f"index {SCHEMA}.{o['name']} on {o['tbl_name']} is not modelled (left out)"
                )
        elif o["type"] == "trigger":
            if owner in names.tables or owner in names.views:
                triggers[owner].append(_trigger(o))
            else:
                warnings.append(
                    f"trigger {SCHEMA}.{o['name']} on {o['tbl_name']} is not modelled (left out)"
                )

    tables = [
        _table(
            o,
            columns[o["name"]],
            foreign_keys[o["name"]],
            names,
            indexes[fold(o["name"])],
            triggers[fold(o["name"])],
            warnings,
            read or read_table,
        )
        for o in table_rows
    ]
    views = [_view(o, names, triggers[fold(o["name"])], warnings) for o in view_rows]
    return Model(
        engine="sqlite",
        tables=tuple(sorted(tables, key=lambda t: t.name)),
        views=tuple(sorted((v for v in views if v), key=lambda v: v.name)),
        warnings=tuple(warnings),
    )


def _grouped(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def _table_kinds(conn: Connection, objects: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Table name -> "table", "virtual" or "shadow" (a table that belongs to a virtual one)."""
    try:
        return {r["name"]: r["type"] for r in conn.records(TABLE_LIST_QUERY)}
    except StatementError:  # pragma_table_list is new in SQLite 3.37
        return table_kinds_by_name(objects)


def table_kinds_by_name(objects: Sequence[dict[str, Any]]) -> dict[str, str]:
    """What pragma_table_list says, from sqlite_master alone: shadow tables by their prefix."""
    virtual = [
        o["name"]
        for o in objects
        if o["type"] == "table" and (o["sql"] or "").upper().startswith("CREATE VIRTUAL")
    ]
    kinds = {name: "virtual" for name in virtual}
    for o in objects:
        if o["type"] == "table" and o["name"] not in kinds:
            prefixed = any(fold(o["name"]).startswith(fold(v) + "_") for v in virtual)
            kinds[o["name"]] = "shadow" if prefixed else "table"
    return kinds


def _table(
    row: dict[str, Any],
    column_rows: list[dict[str, Any]],
    fk_rows: list[dict[str, Any]],
    names: _Names,
    indexes: list[Index],
    triggers: list[Trigger],
    warnings: list[str],
    read_text: Callable[[str], TableText],
) -> Table:
    """A table from its pragma rows and from what only its CREATE TABLE text says."""
    name = row["name"]
    by_id = _grouped(fk_rows, "id")
    fks = [by_id[i] for i in sorted(by_id, reverse=True)]  # the pragma lists the last one first
    text: TableText | None = None
    try:
        read = read_text(row["sql"])
    except Unreadable as exc:
        reason = f"its CREATE TABLE could not be read ({exc})"
    else:
        written_fks = [c for c in read.constraints if c.kind == "foreign key"]
        if [fold(c.name) for c in read.columns] != [fold(c["name"]) for c in column_rows]:
            reason = "its CREATE TABLE and its columns disagree"
        elif [[fold(p.column) for p in c.parts] for c in written_fks] != [
            [fold(r["column"]) for r in rows] for rows in fks
        ]:
            reason = "its CREATE TABLE and its foreign keys disagree"
        else:
            text = read
    if text is None:
        warnings.append(
            f"table {SCHEMA}.{name}: {reason}; its collations, checks, generated columns, "
            "unique constraints and constraint names are not modelled"
        )
    columns = tuple(
        _column(c, text.columns[n] if text else None) for n, c in enumerate(column_rows)
    )
    if text is None:
        key = [_KeyPart(c["name"]) for c in sorted(column_rows, key=lambda c: c["pk"]) if c["pk"]]
        written = [_ConstraintText("primary key", None, key)] if key else []
        written += [_ConstraintText("foreign key", None) for _ in fks]
    else:
        written = text.constraints
    next_fk = iter(fks)
    drafts = [
        _foreign_key(c, next(next_fk), names)
        if c.kind == "foreign key"
        else _constraint(c, name, columns, names)
        for c in written
    ]
    options = text or TableText()
    return Table(
        schema=SCHEMA,
        name=name,
        columns=columns,
        constraints=_named(name, drafts),
        indexes=tuple(sorted(indexes, key=lambda i: i.name)),
        triggers=tuple(sorted(triggers, key=lambda t: t.name)),
        attrs=attrs(
            sql=trimmed(row["sql"]),
            without_rowid=options.without_rowid,
            strict=options.strict,
        ),
    )


def _column(row: dict[str, Any], text: _ColumnText | None) -> Column:
    kind = {2: "VIRTUAL", 3: "STORED"}.get(row["hidden"])
    return Column(
        name=row["name"],
        type=row["type"],
        nullable=not row["not_null"],
        default=row["default"],
        generated=text.generated if text and kind else None,
        generated_kind=kind,
        collation=text.collation if text else None,
        attrs=attrs(not_null_on_conflict=text.not_null_on_conflict if text else None),
    )


_Draft = tuple[str | None, Constraint]  # (the name it was given, if any; the constraint)


def _constraint(c: _ConstraintText, table: str, columns: Sequence[Column], names: _Names) -> _Draft:
    """A primary key, unique or check constraint, defined the same however it was written."""
    if c.kind == "check":
        return c.name, Constraint(
            name="",
            kind="check",
            definition=f"CHECK ({c.expression})",
            columns=tuple(col.name for col in columns if fold(col.name) in c.names),
        )
    own = [names.column(table, p.column) for p in c.parts]
    parts = [
        q(column)
        + (f" COLLATE {q(p.collation)}" if p.collation else "")
        + (" DESC" if p.descending else "")
        for column, p in zip(own, c.parts, strict=True)
    ]
    definition = (
        f"{c.kind.upper()} ({', '.join(parts)}{' AUTOINCREMENT' if c.autoincrement else ''})"
    )
    if c.on_conflict:
        definition += f" ON CONFLICT {c.on_conflict}"
    return c.name, Constraint(
        name="",
        kind=c.kind,
        definition=definition,
        columns=tuple(own),
        attrs=attrs(autoincrement=c.autoincrement, on_conflict=c.on_conflict),
    )


def _foreign_key(c: _ConstraintText, rows: list[dict[str, Any]], names: _Names) -> _Draft:
    """A foreign key as the pragma reports it, plus what only the text says (DEFERRABLE, MATCH)."""
    first = rows[0]
    own = tuple(r["column"] for r in rows)
    table = names.table(first["ref_table"])
    # No referenced columns written: the key refers to the other table's primary key.
    ref_columns = tuple(
        names.column(table, r["ref_column"]) for r in rows if r["ref_column"] is not None
    )
    definition = f"FOREIGN KEY ({', '.join(q(x) for x in own)}) REFERENCES {q(table)}"
    if ref_columns:
        definition += f" ({', '.join(q(x) for x in ref_columns)})"
    for clause, value in (("ON UPDATE", first["on_update"]), ("ON DELETE", first["on_delete"])):
        if value != "NO ACTION":
            definition += f" {clause} {value}"
    match = c.match or (first["match"] if first["match"] != "NONE" else None)
    if match:
        definition += f" MATCH {match}"
    if c.deferrable:
        definition += f" {c.deferrable}"
    return c.name, Constraint(
        name="",
        kind="foreign key",
        definition=definition,
        columns=own,
        references=(SCHEMA, table, ref_columns),
        attrs=attrs(deferrable=c.deferrable, match=match),
    )


def _named(table: str, drafts: list[_Draft]) -> tuple[Constraint, ...]:
    """Constraints with the names they were given, or a stable one made up: t_pkey,
    t_a_b_key, t_a_fkey, t_check_1 (numbered among the unnamed checks, in written order)."""
    taken = {fold(name) for name, _ in drafts if name}
    checks = 0
    out = []
    for name, constraint in drafts:
        if name is None:
            if constraint.kind == "check":
                checks += 1
                base = f"{table}_check_{checks}"
            elif constraint.kind == "primary key":
                base = f"{table}_pkey"
            else:
                suffix = "key" if constraint.kind == "unique" else "fkey"
                base = "_".join((table, *constraint.columns, suffix))
            name, n = base, 1
            while fold(name) in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(fold(name))
        out.append(replace(constraint, name=name))
    return tuple(out)


def _index(row: dict[str, Any], parts: list[dict[str, Any]]) -> Index:
    sql = trimmed(row["sql"])
    keys = [p for p in parts if p["key"]]
    predicate = None
    if parts[0]["partial"]:
        with suppress(Unreadable):
            predicate = read_index_predicate(sql)
    return Index(
        name=row["name"],
        definition=sql,
        unique=bool(parts[0]["unique"]),
        columns=tuple(p["column"] for p in keys if p["cid"] >= 0),
        attrs=attrs(where=predicate, expressions=any(p["cid"] == -2 for p in keys)),
    )


def _trigger(row: dict[str, Any]) -> Trigger:
    sql = trimmed(row["sql"])
    try:
        when = read_trigger(sql)
    except Unreadable:
        when = {}
    return Trigger(name=row["name"], definition=sql, attrs=attrs(**when))


def _view(
    row: dict[str, Any], names: _Names, triggers: list[Trigger], warnings: list[str]
) -> View | None:
    try:
        columns, query, query_tokens = read_view(row["sql"])
    except Unreadable as exc:
        warnings.append(f"view {SCHEMA}.{row['name']} could not be read ({exc}); left out")
        return None
    # Any name in the query that is another view's: over-approximate, only for ordering.
    depends = {
        names.views[fold(t.name)]
        for t in query_tokens
        if t.kind in ("word", "quoted") and fold(t.name) in names.views
    } - {row["name"]}
    return View(
        schema=SCHEMA,
        name=row["name"],
        definition=query,
        triggers=tuple(sorted(triggers, key=lambda t: t.name)),
        attrs=attrs(columns=columns, depends_on=tuple(sorted(depends))),
    )


def table_sizes(conn: Connection) -> dict[str, tuple[int, int | None]]:
    """{table: (rows, None)}: SQLite keeps no estimates, so its rows are counted."""
    names = conn.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {
        str(name).lower(): (
            int(conn.query(f"SELECT count(*) FROM {DIALECT.quote_ident(str(name))}")[0][0]),
            None,
        )
        for (name,) in names
    }
