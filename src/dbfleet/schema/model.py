"""The schema model: immutable objects as the server describes them, engine-neutral.

Shapes follow Atlas: a small common model (tables, columns, constraints, indexes, views,
routines, ...) with open-ended per-engine `attrs` instead of one class per engine. Expressions,
bodies and definitions are kept exactly as the server prints them (pg_get_expr,
pg_get_viewdef, SHOW CREATE, sqlite_master.sql), so equal schemas compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

# Per-engine attributes: sorted (key, value) pairs, so objects stay hashable and comparable.
Attrs = tuple[tuple[str, Any], ...]


def attrs(**values: Any) -> Attrs:
    """Attrs from keyword arguments, dropping the ones that are None/False/empty (the defaults)."""
    return tuple(sorted((k, v) for k, v in values.items() if v not in (None, False, "", ())))


def attr(obj_attrs: Attrs, key: str, default: Any = None) -> Any:
    return next((v for k, v in obj_attrs if k == key), default)


class HasAttrs(Protocol):
    """Any model object with per-engine attrs."""

    @property
    def attrs(self) -> Attrs: ...


_T = TypeVar("_T", bound=HasAttrs)


def without_attrs(obj: _T, *keys: str) -> _T:
    """`obj` (a model object) without the attrs `keys`: to compare it ignoring derived ones."""
    kept = tuple((k, v) for k, v in obj.attrs if k not in keys)
    return replace(obj, attrs=kept)  # type: ignore[type-var]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as the server prints it, e.g. "character varying(20)", "int(10) unsigned"
    nullable: bool = True
    default: str | None = None
    generated: str | None = None  # generation expression
    generated_kind: str | None = None  # "STORED" or "VIRTUAL"
    identity: str | None = None  # "ALWAYS" or "BY DEFAULT" (PostgreSQL identity columns)
    collation: str | None = None
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Constraint:
    """Primary key, unique, foreign key, check or exclusion constraint of a table."""

    name: str
    kind: str  # "primary key" | "unique" | "foreign key" | "check" | "exclude"
    definition: str  # as the server prints it, e.g. "FOREIGN KEY (a) REFERENCES t(id)"
    columns: tuple[str, ...] = ()
    references: tuple[str, str, tuple[str, ...]] | None = None  # (schema, table, columns)
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Index:
    name: str
    definition: str  # the complete CREATE INDEX statement as the server prints it
    unique: bool = False
    columns: tuple[str, ...] = ()  # plain column parts, for dependency tracking
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Trigger:
    name: str
    definition: str  # the complete CREATE TRIGGER statement
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Policy:
    name: str
    definition: str  # the complete CREATE POLICY statement
    comment: str | None = None


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    policies: tuple[Policy, ...] = ()
    comment: str | None = None
    attrs: Attrs = ()  # unlogged, partition_by, partition_of, partition_bound, inherits, rls, ...

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class View:
    schema: str
    name: str
    definition: str  # the query as the server prints it
    materialized: bool = False
    indexes: tuple[Index, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    column_comments: tuple[tuple[str, str], ...] = ()
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Routine:
    """A function or procedure; `signature` tells overloads apart."""

    schema: str
    name: str
    kind: str  # "function" | "procedure" | "aggregate"
    signature: str  # identity arguments, e.g. "integer, text"
    definition: str  # the complete CREATE statement as the server prints it
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Sequence:
    schema: str
    name: str
    type: str = "bigint"
    start: int = 1
    increment: int = 1
    minimum: int | None = None
    maximum: int | None = None
    cache: int = 1
    cycle: bool = False
    owned_by: tuple[str, str] | None = None  # (table, column)
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class UserType:
    """Enum, composite, range, domain (PostgreSQL) types."""

    schema: str
    name: str
    kind: str  # "enum" | "composite" | "range" | "domain"
    definition: str  # the complete CREATE TYPE / CREATE DOMAIN statement
    labels: tuple[str, ...] = ()  # enum labels, in order
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Extension:
    name: str
    schema: str
    version: str


@dataclass(frozen=True)
class Schema:
    name: str
    comment: str | None = None


@dataclass(frozen=True)
class Event:
    """A scheduled event (MariaDB/MySQL)."""

    schema: str
    name: str
    definition: str
    comment: str | None = None
    attrs: Attrs = ()


@dataclass(frozen=True)
class Privilege:
    """A GRANT, REVOKE or OWNER TO statement about the object `schema`.`name`."""

    schema: str
    name: str
    statement: str


@dataclass(frozen=True)
class Model:
    """A whole database schema (the parts dbfleet manages), in a deterministic order."""

    engine: str
    schemas: tuple[Schema, ...] = ()
    extensions: tuple[Extension, ...] = ()
    types: tuple[UserType, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    tables: tuple[Table, ...] = ()
    views: tuple[View, ...] = ()
    routines: tuple[Routine, ...] = ()
    events: tuple[Event, ...] = ()
    grants: tuple[Privilege, ...] = ()  # GRANT/REVOKE (kept with --privileges)
    owners: tuple[Privilege, ...] = ()  # ALTER ... OWNER TO (kept with --owners)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def table(self, schema: str, name: str) -> Table | None:
        return next((t for t in self.tables if t.schema == schema and t.name == name), None)

    def objects(self) -> Iterator[object]:
        yield from self.schemas
        yield from self.extensions
        yield from self.types
        yield from self.sequences
        yield from self.tables
        yield from self.views
        yield from self.routines
        yield from self.events
