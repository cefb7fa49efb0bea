"""The safety rules: walk one file's operations in order against the replayed schema."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dbfleet.lint.ops import Column, Op, narrows
from dbfleet.lint.schema import Origin, SchemaState


@dataclass(frozen=True)
class StatementOps:
    index: int  # of the statement in its file
    ops: tuple[Op, ...]
    outside_transaction: bool  # the engine refuses to run it in a transaction block


@dataclass(frozen=True)
class Hit:
    """A rule that fired: on statement `statement` (None: the file) at `offset` in its text."""

    code: str
    message: str
    statement: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class FileFacts:
    kind: str | None  # "V", "U", "R" or None for a plain script
    lock_timeout_settings: frozenset[str]  # empty: the engine has no lock timeout to set
    statement_timeout_settings: frozenset[str]
    max_identifier: int | None  # longer names are truncated (PostgreSQL) or refused
    view_dependencies: bool  # the engine refuses to drop what a view uses (PostgreSQL)
    naming: Mapping[str, re.Pattern[str]]  # object kind (table, index, constraint) -> pattern


_LOCKING = frozenset(
    [
        "add_column",
        "drop_column",
        "alter_column_type",
        "set_not_null",
        "drop_not_null",
        "add_constraint",
        "rename_table",
        "rename_column",
        "create_index",
        "drop_index",
        "truncate",
        "lock_table",
        "drop_table",
        "vacuum_full",
        "detach_partition",
        "cluster",
        "reindex",
    ]
)
_ID = re.compile(r"^(id|.*_id)$")


def check_file(
    statements: Sequence[StatementOps], facts: FileFacts, state: SchemaState, origin: Origin
) -> list[Hit]:
    """Every rule hit in one file, replaying its operations into `state` as it goes.

    `origin` is what tables created by this file count as for the files after it: "new" when
    this file is among the changes being linted or not yet applied, "existing" otherwise. Within
    the file itself its own tables are always new.
    """
    hits: list[Hit] = []
    in_transaction = False
    timeout_set = not facts.lock_timeout_settings
    timeout_reported = False
    statement_timeout_set = not facts.statement_timeout_settings
    statement_timeout_reported = False
    created_here: set[str] = set()
    indexes_here: set[str] = set()
    dropped_here: set[str] = set()
    transactional = outside = 0
    for stmt in statements:
        kinds = {op.kind for op in stmt.ops}
        if stmt.outside_transaction:
            outside += 1
        elif kinds - {"set", "begin", "commit", "rollback"}:
            transactional += 1
        for op in stmt.ops:
            ctx = _Ctx(stmt.index, op, state, hits)
            kind, table = op.kind, op.table
            new = table in created_here or state.is_new(table)
            if kind == "set" and op.setting in facts.lock_timeout_settings:
                timeout_set = True
            if kind == "set" and op.setting in facts.statement_timeout_settings:
                statement_timeout_set = True
            locks = kind in _LOCKING and not new and not op.concurrent
            if locks and not timeout_set and not timeout_reported:
                timeout_reported = True
                ctx.hit("DF501", f"{_verb(op)} without a lock_timeout set before it")
            late = kind in _LOCKING and not new and not statement_timeout_set
            if late and not statement_timeout_reported:
                statement_timeout_reported = True
                ctx.hit("DF505", f"{_verb(op)} without a statement_timeout set before it")
            _identifier_length(ctx, facts)
            if kind == "begin":
                if in_transaction:
                    ctx.hit("DF303", "BEGIN inside an open transaction")
                else:
                    ctx.hit("DF303", "explicit BEGIN in a migration (dbfleet already wraps it)")
                in_transaction = True
            elif kind in ("commit", "rollback"):
                ctx.hit("DF303", f"explicit {kind.upper()} in a migration")
                in_transaction = False
            if op.concurrent and in_transaction:
                ctx.hit("DF301", f"{_verb(op)} CONCURRENTLY inside BEGIN ... COMMIT")
            _rules(ctx, facts, new, created_here, indexes_here, dropped_here)
            if kind == "create_table" and table:  # temporary ones too: nobody else sees them
                created_here.add(table)
            if kind == "create_index" and op.name:
                indexes_here.add(op.name)
            if kind.startswith("drop_") and (op.name or op.table):
                dropped_here.add(str(op.name or op.table))
            state.apply(op, origin)
    if in_transaction:
        hits.append(Hit("DF304", "BEGIN without COMMIT: the file ends inside a transaction"))
    if outside and transactional:
        first = next(s for s in statements if s.outside_transaction)
        hits.append(
            Hit(
                "DF302",
                "non-transactional statement in a file with transactional ones; the "
                "file cannot run atomically",
                first.index,
            )
        )
    return hits


@dataclass
class _Ctx:
    statement: int
    op: Op
    state: SchemaState
    hits: list[Hit]

    def hit(self, code: str, message: str, offset: int | None = None) -> None:
        where = self.op.offset if offset is None else offset
        self.hits.append(Hit(code, message, self.statement, where))


_VERBS = {
    "create_index": "CREATE INDEX",
    "drop_index": "DROP INDEX",
    "reindex": "REINDEX",
    "truncate": "TRUNCATE",
    "drop_table": "DROP TABLE",
    "lock_table": "LOCK TABLE",
    "vacuum_full": "VACUUM FULL",
    "cluster": "CLUSTER",
}


def _verb(op: Op) -> str:
    """How the statement reads, for messages: "CREATE INDEX", "ALTER TABLE invoices"."""
    return _VERBS.get(op.kind, f"ALTER TABLE {op.table}" if op.table else "ALTER TABLE")


def _rules(
    ctx: _Ctx,
    facts: FileFacts,
    new: bool,
    created_here: set[str],
    indexes_here: set[str],
    dropped_here: set[str],
) -> None:
    op, state = ctx.op, ctx.state
    kind, table = op.kind, op.table
    size = state.size(table)
    if kind == "create_table":
        _naming(ctx, facts, "table", table)
        if not op.temporary:
            if not op.has_primary_key:
                ctx.hit("DF601", f"table {table} has no primary key")
            for col in op.columns:
                _column_conventions(ctx, col)
        _robust(ctx, facts, dropped_here, op.if_not_exists, f"CREATE TABLE {table}")
    elif kind == "drop_table" and not new:
        ctx.hit("DF101", f"DROP TABLE {table} deletes the table and its rows{size}")
        if users := state.users_of(table):
            ctx.hit(_view_rule(facts), f"table {table} is used by view {', '.join(users)}")
    elif kind == "drop_column" and not new:
        ctx.hit("DF102", f"DROP COLUMN {op.name} deletes the column's data in {table}{size}")
        if users := state.users_of(table, op.name):
            ctx.hit(
                _view_rule(facts), f"column {table}.{op.name} is used by view {', '.join(users)}"
            )
    elif kind == "drop_schema":
        ctx.hit("DF103", f"DROP SCHEMA {op.name}{' CASCADE' if op.cascade else ''}")
    elif kind == "drop_database":
        ctx.hit("DF104", f"DROP DATABASE {op.name}")
    elif kind == "truncate":
        if op.cascade:
            ctx.hit("DF106", f"TRUNCATE ... CASCADE also empties every table referencing {table}")
        elif not new:
            ctx.hit("DF105", f"TRUNCATE deletes every row of {', '.join(op.tables)}{size}")
    elif kind == "delete" and not op.has_where and not new:
        ctx.hit("DF107", f"DELETE without WHERE removes every row of {table}{size}")
    elif kind == "update" and not op.has_where and not new:
        ctx.hit("DF108", f"UPDATE without WHERE rewrites every row of {table}{size}")
    elif kind == "create_index":
        _naming(ctx, facts, "index", op.name)
        if op.concurrent is False and not new:
            ctx.hit("DF201", f"CREATE INDEX without CONCURRENTLY locks writes on {table}{size}")
        if op.unique and not new:
            ctx.hit("DF110", f"UNIQUE index on {table}{size} fails if existing rows repeat a value")
        if op.concurrent and not op.if_not_exists:
            ctx.hit("DF503", "CREATE INDEX CONCURRENTLY without IF NOT EXISTS cannot be retried")
        _robust(ctx, facts, dropped_here, op.if_not_exists, "CREATE INDEX")
    elif kind == "drop_index":
        if op.concurrent is False and op.name not in indexes_here:
            ctx.hit("DF202", f"DROP INDEX {op.name} without CONCURRENTLY blocks reads and writes")
        if op.concurrent and not op.if_exists:
            ctx.hit("DF503", "DROP INDEX CONCURRENTLY without IF EXISTS cannot be retried")
    elif kind == "add_column":
        added = op.column
        assert added is not None
        _column_conventions(ctx, added)
        if not new:
            if added.not_null and not added.has_default:
                ctx.hit("DF212", f"NOT NULL column {added.name} without a default on {table}{size}")
            if added.volatile_default:
                ctx.hit("DF207", f"volatile default for {added.name} rewrites {table}{size}")
            if added.primary_key:
                ctx.hit(
                    "DF208",
                    f"PRIMARY KEY column {added.name} builds its index under lock on {table}{size}",
                )
            if added.stored_generated:
                ctx.hit("DF214", f"stored generated column {added.name} rewrites {table}{size}")
        if facts.kind == "R" and not op.if_not_exists:
            ctx.hit("DF504", f"ADD COLUMN {added.name} fails when the repeatable migration reruns")
    elif kind == "alter_column_type" and not new:
        changed = op.column
        assert changed is not None
        old = state.column_type(table, op.name)
        if narrows(old, (changed.family, changed.length)):
            ctx.hit(
                "DF109",
                f"column {table}.{op.name} narrows from {_t(old)} to "
                f"{_t((changed.family, changed.length))}",
            )
        ctx.hit("DF206", f"changing the type of {table}.{op.name} may rewrite {table}{size}")
    elif kind == "set_not_null" and not new:
        ctx.hit("DF205", f"SET NOT NULL on {table}.{op.name} scans {table}{size} under lock")
    elif kind == "drop_not_null" and not new:
        ctx.hit("DF403", f"DROP NOT NULL on {table}.{op.name}")
    elif kind == "add_constraint":
        _naming(ctx, facts, "constraint", op.name)
        if not new:
            if op.constraint == "foreign_key" and op.not_valid is False:
                ctx.hit("DF203", f"FOREIGN KEY without NOT VALID blocks writes on {table}{size}")
            elif op.constraint == "check" and op.not_valid is False:
                ctx.hit(
                    "DF204", f"CHECK without NOT VALID blocks reads and writes on {table}{size}"
                )
            elif op.constraint in ("unique", "primary_key") and not op.using_index:
                what = "UNIQUE" if op.constraint == "unique" else "PRIMARY KEY"
                ctx.hit("DF110", f"{what} on {table}{size} fails if existing rows repeat a value")
                if op.not_valid is not None:  # the engine can build the index first (PostgreSQL)
                    ctx.hit(
                        "DF208", f"{what} constraint builds its index under lock on {table}{size}"
                    )
    elif kind == "rename_table" and not new:
        ctx.hit("DF401", f"renaming table {table} to {op.new_name}")
    elif kind == "rename_column" and not new:
        ctx.hit("DF402", f"renaming column {table}.{op.name} to {op.new_name}")
    elif kind in ("vacuum_full", "cluster"):
        ctx.hit(
            "DF209",
            f"{'VACUUM FULL' if kind == 'vacuum_full' else 'CLUSTER'} rewrites the "
            "table under an ACCESS EXCLUSIVE lock",
        )
    elif kind == "reindex" and op.concurrent is False:
        ctx.hit("DF210", "REINDEX without CONCURRENTLY blocks writes")
    elif kind == "lock_table":
        ctx.hit("DF211", f"LOCK TABLE {table or ''}".rstrip())
    elif kind == "detach_partition" and op.concurrent is False:
        ctx.hit("DF215", f"DETACH PARTITION {op.name} without CONCURRENTLY locks {table}{size}")
    elif kind == "add_enum_value" and not op.has_where:
        ctx.hit("DF610", f"ADD VALUE '{op.name}' without BEFORE or AFTER")
    elif kind == "drop_other" and op.object_kind not in ("index",):
        ctx.hit("DF405", f"DROP {(op.object_kind or 'object').upper()} {op.name or ''}".rstrip())
    elif kind in ("create_domain_constraint", "alter_domain_add_constraint"):
        ctx.hit("DF213", "CHECK constraint on a domain")
    elif kind == "create_view":
        if facts.kind == "R" and not op.or_replace and table not in dropped_here:
            ctx.hit("DF504", f"CREATE VIEW {table} fails when the repeatable migration reruns")
        _robust(ctx, facts, dropped_here, op.if_not_exists, "CREATE VIEW")
    elif kind == "create_other":
        if facts.kind == "R" and not (op.or_replace or op.if_not_exists):
            ctx.hit(
                "DF504",
                f"CREATE {op.object_kind or 'object'} fails when the repeatable migration reruns",
            )
        _robust(ctx, facts, dropped_here, op.if_not_exists, f"CREATE {op.object_kind or ''}")


def _view_rule(facts: FileFacts) -> str:
    """DF404 where the drop fails; DF406 where it succeeds and leaves the view broken."""
    return "DF404" if facts.view_dependencies else "DF406"


def _robust(ctx: _Ctx, facts: FileFacts, dropped: set[str], if_not_exists: bool, what: str) -> None:
    op = ctx.op
    if if_not_exists and facts.kind != "R":
        ctx.hit("DF502", f"{what.strip()} IF NOT EXISTS skips an existing object silently")
    rerun = facts.kind == "R" and op.kind in ("create_table", "create_index")
    if rerun and not if_not_exists and (op.name or op.table) not in dropped:
        ctx.hit("DF504", f"{what.strip()} fails when the repeatable migration reruns")


def _column_conventions(ctx: _Ctx, col: Column) -> None:
    at = col.offset or None
    is_id = col.primary_key or bool(_ID.match(col.name))
    if col.family in ("int32", "serial32") and is_id:
        ctx.hit("DF602", f"32-bit integer id column {col.name}", at)
    if col.family in ("int16", "serial16") and is_id:
        ctx.hit("DF603", f"16-bit integer id column {col.name}", at)
    if col.family == "timestamp":
        ctx.hit("DF604", f"column {col.name} is timestamp without time zone", at)
    if col.family == "varchar" and col.length is not None:
        ctx.hit("DF605", f"column {col.name} is varchar({col.length})", at)
    if col.family.startswith("serial"):
        ctx.hit("DF606", f"column {col.name} is serial; prefer an identity column", at)
    if col.family == "char":
        ctx.hit("DF607", f"column {col.name} is char({col.length or 1})", at)


def _identifier_length(ctx: _Ctx, facts: FileFacts) -> None:
    op, limit = ctx.op, facts.max_identifier
    if limit is None or not op.kind.startswith(("create_", "add_", "rename_")):
        return
    names = [op.table if op.kind in ("create_table", "create_view") else None, op.new_name]
    if op.kind in ("create_index", "add_constraint"):
        names.append(op.name)
    names += [c.name for c in op.columns] + ([op.column.name] if op.column else [])
    # PostgreSQL's parser has already truncated long names: it reports the full ones apart.
    names += [value for key, value in op.extra if key == "long_name"]
    for name in names:
        if name and len(name.encode()) > limit:
            ctx.hit(
                "DF609",
                f"identifier {name[:20]}... is {len(name.encode())} bytes; the "
                f"engine keeps {limit}",
            )


def _naming(ctx: _Ctx, facts: FileFacts, what: str, name: str | None) -> None:
    pattern = facts.naming.get(what)
    if pattern is not None and name and not pattern.search(name):
        ctx.hit("DF608", f"{what} name {name} does not match {pattern.pattern}")


def _t(t: tuple[str, int | None]) -> str:
    family, length = t
    return f"{family}({length})" if length is not None else family
