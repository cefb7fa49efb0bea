"""What a statement does, in engine-neutral terms: the parsers' output and the rules' input.

Each engine's parser (pglast for PostgreSQL, sqlglot for SQLite and MariaDB) turns its own parse
tree into these records, so the rules and the schema replay are written once for every engine.
A capability the engine lacks is None (SQLite has no CONCURRENTLY), and rules about it stay quiet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Neutral type families for the convention rules; "other" means no opinion.
TypeFamily = Literal[
    "int16", "int32", "int64", "serial32", "serial16", "serial64", "varchar", "char",
    "timestamp", "timestamptz", "text", "other",
]  # fmt: skip
_WIDTH = {"int16": 16, "serial16": 16, "int32": 32, "serial32": 32, "int64": 64, "serial64": 64}


def narrows(old: tuple[TypeFamily, int | None], new: tuple[TypeFamily, int | None]) -> bool:
    """True when a value of type `old` may not fit in type `new` (bits or characters)."""
    (old_family, old_len), (new_family, new_len) = old, new
    if old_family in _WIDTH and new_family in _WIDTH:
        return _WIDTH[new_family] < _WIDTH[old_family]
    if new_family in ("varchar", "char") and new_len is not None:
        if old_family in ("varchar", "char"):
            return old_len is None or new_len < old_len
        return old_family == "text"
    return False


@dataclass(frozen=True)
class Column:
    name: str
    family: TypeFamily = "other"
    length: int | None = None  # varchar(n) / char(n)
    not_null: bool = False
    has_default: bool = False
    volatile_default: bool = False
    stored_generated: bool = False
    primary_key: bool = False
    identity: bool = False
    offset: int = 0  # where the column is defined, in the statement


@dataclass(frozen=True)
class Op:
    """One thing a statement does. `offset` is the 0-based character in the statement text to
    point at; `table` names are lower-cased unless quoted."""

    kind: str
    table: str | None = None
    name: str | None = None  # index, constraint, column or new name, by kind
    new_name: str | None = None
    offset: int = 0
    concurrent: bool | None = None  # None: the engine has no such option
    not_valid: bool | None = None
    if_exists: bool = False
    if_not_exists: bool = False
    or_replace: bool = False
    cascade: bool = False
    has_where: bool = True
    constraint: str | None = None  # foreign_key, check, unique, primary_key, exclusion
    using_index: bool = False
    unique: bool = False  # create_index: a UNIQUE index
    column: Column | None = None
    columns: tuple[Column, ...] = ()
    has_primary_key: bool = False
    temporary: bool = False
    tables: tuple[str, ...] = ()  # views: the tables they read; truncate: its tables
    setting: str | None = None
    object_kind: str | None = None  # for create/drop of other objects: view, function, ...
    extra: tuple[tuple[str, str], ...] = field(default=())


# The kinds the parsers emit (documentation and a check for typos in tests). "data" is a
# statement no rule looks into (INSERT, SELECT); "other" one whose details no rule needs.
KINDS = frozenset(
    """
    create_table drop_table rename_table create_index drop_index add_column drop_column
    rename_column alter_column_type set_not_null drop_not_null add_constraint drop_schema
    drop_database truncate delete update vacuum_full cluster reindex lock_table begin commit
    rollback set create_domain_constraint alter_domain_add_constraint create_view create_other
    drop_other detach_partition add_enum_value data other
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
