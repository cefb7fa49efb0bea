"""What lint knows about the schema before a statement: symbolic replay of earlier migrations.

No database is needed: CREATE/DROP/RENAME of tables and columns, and views with the tables they
read, are replayed from the parse trees in version order, which takes milliseconds for hundreds
of files. `origin` says whether a table already existed when this lint run's changes start
("existing": its writes may be locked in production) or is created by the changes being linted
("new": empty, nothing to lock). With --env, the live catalog adds tables and their sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dbfleet.lint.ops import Op, TypeFamily

Origin = Literal["existing", "new"]


@dataclass(frozen=True)
class TableSize:
    rows: int
    bytes: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.rows >= 0:  # PostgreSQL: -1 until the table is first analyzed
            parts.append(_human(self.rows, ("", " k", " M", " G")) + " rows")
        if self.bytes is not None:
            parts.append(_bytes(self.bytes))
        return ", ".join(parts) or "size unknown"


def _human(n: int, units: tuple[str, ...]) -> str:
    """12345678 -> "12 M", 1500 -> "1.5 k", 999 -> "999"."""
    value = float(n)
    for unit in units:
        if abs(value) < 999.5 or unit == units[-1]:
            if unit == "" or value >= 10:
                return f"{value:.0f}{unit}"
            return f"{value:.1f}".removesuffix(".0") + unit
        value /= 1000
    return str(n)


def _bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


@dataclass
class Table:
    origin: Origin
    columns: dict[str, tuple[TypeFamily, int | None]] = field(default_factory=dict)


@dataclass
class SchemaState:
    """Tables and views known so far; mutable, owned by one lint run."""

    tables: dict[str, Table] = field(default_factory=dict)
    views: dict[str, tuple[tuple[str, ...], frozenset[str]]] = field(default_factory=dict)
    sizes: dict[str, TableSize] = field(default_factory=dict)

    def is_new(self, table: str | None) -> bool:
        """True when `table` is created by the changes being linted (a table nobody uses yet).

        A table lint has never seen (created outside the migrations, before a baseline) is
        treated as existing: the safe assumption."""
        found = self.tables.get(table or "")
        return found is not None and found.origin == "new"

    def size(self, table: str | None) -> str:
        found = self.sizes.get(table or "")
        return f" ({found})" if found is not None else ""

    def column_type(self, table: str | None, column: str | None) -> tuple[TypeFamily, int | None]:
        found = self.tables.get(table or "")
        if found is None or column is None:
            return "other", None
        return found.columns.get(column, ("other", None))

    def users_of(self, table: str | None, column: str | None = None) -> list[str]:
        """Views that read `table` (and `column` of it, when given)."""
        return sorted(
            view
            for view, (tables, columns) in self.views.items()
            if table in tables and (column is None or column in columns or "*" in columns)
        )

    def apply(self, op: Op, origin: Origin) -> None:
        """Replay what `op` does to the schema; `origin` is that of tables it creates."""
        kind, table = op.kind, op.table or ""
        if kind == "create_table" and not op.temporary:
            if table not in self.tables or not op.if_not_exists:
                self.tables[table] = Table(
                    origin, {c.name: (c.family, c.length) for c in op.columns}
                )
        elif kind == "drop_table":
            self.tables.pop(table, None)
            self.sizes.pop(table, None)
        elif kind == "rename_table" and op.new_name:
            if table in self.tables:
                self.tables[op.new_name] = self.tables.pop(table)
            if table in self.sizes:
                self.sizes[op.new_name] = self.sizes.pop(table)
        elif kind == "add_column" and op.column and table in self.tables:
            self.tables[table].columns[op.column.name] = (op.column.family, op.column.length)
        elif kind == "drop_column" and table in self.tables:
            self.tables[table].columns.pop(op.name or "", None)
        elif kind == "rename_column" and table in self.tables and op.new_name:
            cols = self.tables[table].columns
            if op.name in cols:
                cols[op.new_name] = cols.pop(op.name or "")
        elif kind == "alter_column_type" and op.column and table in self.tables:
            self.tables[table].columns[op.name or ""] = (op.column.family, op.column.length)
        elif kind == "create_view":
            columns = frozenset(value for key, value in op.extra if key == "column")
            self.views[table] = (op.tables, columns)
        elif kind == "drop_other" and op.object_kind in ("view", "materialized_view"):
            self.views.pop(op.name or "", None)
