"""What a diff is made of: changes to objects, the statements that make them, their hazards."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Hazard codes, stable across releases (CI pipelines name them in --fail-on). The families follow
# pg-schema-diff's hazard types, plus what a running application and other engines add.
HAZARDS: dict[str, tuple[str, str]] = {
    # code: (severity, what it means)
    "data_loss": ("high", "deletes data that cannot be recovered from the database"),
    "table_rewrite": ("high", "rewrites the whole table (and its indexes) under a lock"),
    "access_exclusive_lock": ("medium", "blocks reads and writes of the table while it runs"),
    "share_lock": ("medium", "blocks writes to the table while it runs"),
    "share_row_exclusive_lock": ("medium", "blocks writes to the table and its referenced one"),
    "full_scan": ("medium", "scans the whole table under a lock (validation)"),
    "index_build": ("low", "builds an index: I/O and CPU proportional to the table"),
    "index_dropped": ("low", "queries that used this index may get slower"),
    "performance": ("low", "may slow the database down while it runs"),
    "backwards_incompatible": ("high", "breaks application code still using the old shape"),
    "possible_rename": ("medium", "looks like a rename, but runs as a drop and an add"),
    "untrackable_dependencies": ("low", "code the catalog cannot see into may still use this"),
    "extension_upgrade": ("medium", "upgrades an extension: its own scripts decide what runs"),
    "authorization": ("medium", "changes who may do what"),
    "rebuild": ("medium", "rebuilds the object: dependants are dropped and recreated"),
    "unsupported": ("high", "dbfleet cannot do this change safely; see the message"),
}

# Hazards of the way the diff engine would make a change (its statements, their locks; on
# SQLite a table rebuilt where the migration may use ALTER TABLE), as opposed to what any way of
# making it does (loses data, builds an index, breaks old code). A plan runs the migrations'
# own statements, not the diff's: it keeps what a change does and leaves how it runs to lint.
HOW_HAZARDS = frozenset(
    {
        "table_rewrite",
        "access_exclusive_lock",
        "share_lock",
        "share_row_exclusive_lock",
        "full_scan",
        "rebuild",
        "unsupported",
    }
)


@dataclass(frozen=True)
class Hazard:
    code: str
    message: str

    @property
    def severity(self) -> str:
        return HAZARDS[self.code][0]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class Step:
    """One SQL statement of a change, with what it risks."""

    sql: str  # one statement, terminated with ";"
    hazards: tuple[Hazard, ...] = ()
    transactional: bool = True  # False: must run outside a transaction (CONCURRENTLY)
    # Lint rules this statement trips by design, each "CODE why" (e.g. the drop of a table whose
    # rows were just copied into its rebuilt version): written as dbfleet:ignore comments.
    lint_ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """One change to one object: what it was, what it becomes, and the statements that do it.

    `key` names the object in the dependency graph (e.g. "rel:public.t"); `parent` is the key of
    the table a column, constraint, index, trigger or policy belongs to.
    """

    action: str  # "create" | "drop" | "alter"
    kind: str  # "schema", "extension", "type", "sequence", "table", "column", "constraint", ...
    name: str  # display name, e.g. "public.invoices.amount"
    key: str
    steps: tuple[Step, ...]
    parent: str | None = None
    before: object | None = None
    after: object | None = None
    hazards: tuple[Hazard, ...] = ()  # hazards of the change as a whole (e.g. possible_rename)
    reason: str = ""  # why a dependant is recreated ("depends on public.t, whose ... changes")
    runs_after: tuple[str, ...] = ()  # keys of other changes that must run first

    def all_hazards(self) -> tuple[Hazard, ...]:
        seen: dict[tuple[str, str], Hazard] = {}
        for hazard in (*self.hazards, *(h for s in self.steps for h in s.hazards)):
            seen.setdefault((hazard.code, hazard.message), hazard)
        return tuple(seen.values())


@dataclass(frozen=True)
class Options:
    """How to diff: renames to apply instead of drop+add, online-safe PostgreSQL statements."""

    renames: tuple[tuple[str, str], ...] = ()  # ("public.t.old", "new"), ("public.old", "new")
    online: bool = False
    lock_timeout: str = "5s"

    def inverted(self) -> Options:
        """The options for the way back: each rename pointing the other way."""
        from dataclasses import replace

        flipped = []
        for old, new in self.renames:
            parts = old.split(".")
            if "." in new:  # schema.table: a table moved to another schema
                flipped.append((new, old))
            else:
                flipped.append((".".join([*parts[:-1], new]), parts[-1]))
        return replace(self, renames=tuple(flipped))


@dataclass(frozen=True)
class Diff:
    """The ordered changes that turn one schema into another."""

    engine: str
    changes: tuple[Change, ...] = ()
    prologue: tuple[str, ...] = field(default=())  # e.g. SET lock_timeout

    def __bool__(self) -> bool:
        return bool(self.changes)

    def hazards(self) -> list[tuple[Change, Hazard]]:
        return [(c, h) for c in self.changes for h in c.all_hazards()]

    def statements(self) -> list[str]:
        return [*self.prologue, *(s.sql for c in self.changes for s in c.steps)] if self else []

    def what_it_does(self) -> Diff:
        """The same changes with only the hazards of what they do (none of HOW_HAZARDS), and
        for an altered table, what changes in it rather than how the engine would do it."""

        def keep(hazards: tuple[Hazard, ...]) -> tuple[Hazard, ...]:
            return tuple(h for h in hazards if h.code not in HOW_HAZARDS)

        changes = tuple(
            replace(
                c,
                hazards=keep(c.hazards),
                steps=tuple(replace(step, hazards=keep(step.hazards)) for step in c.steps),
                reason="; ".join(table_delta(c.before, c.after)) or c.reason,
            )
            for c in self.changes
        )
        return replace(self, changes=changes)


def table_delta(before: object, after: object) -> list[str]:
    """What differs between two versions of a table: columns, constraints and indexes added,
    dropped or changed (empty for anything that is not a pair of tables)."""
    from dbfleet.schema.model import Table

    if not isinstance(before, Table) or not isinstance(after, Table):
        return []
    old = {c.name: c for c in before.columns}
    new = {c.name: c for c in after.columns}
    parts = [f"column {n} added" for n in new if n not in old]
    parts += [f"column {n} dropped" for n in old if n not in new]
    for n in [n for n in old if n in new]:
        if old[n].type != new[n].type:
            parts.append(f"column {n} type {old[n].type} -> {new[n].type}")
        elif old[n].nullable != new[n].nullable:
            parts.append(f"column {n} {'NULL allowed' if new[n].nullable else 'NOT NULL'}")
        elif old[n] != new[n]:
            parts.append(f"column {n} changed")
    for what, a, b in (
        ("constraint", before.constraints, after.constraints),
        ("index", before.indexes, after.indexes),
        ("trigger", before.triggers, after.triggers),
    ):
        was = {x.name: x for x in a}
        now = {x.name: x for x in b}
        parts += [f"{what} {n} added" for n in sorted(now.keys() - was.keys())]
        parts += [f"{what} {n} dropped" for n in sorted(was.keys() - now.keys())]
        parts += [
            f"{what} {n} changed" for n in sorted(was.keys() & now.keys()) if was[n] != now[n]
        ]
    return parts
