"""What each migration's state is in one target: the files reconciled with the history table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from dbfleet.engines.base import HistoryRow
from dbfleet.errors import DbfleetError
from dbfleet.migrate.files import Kind, MigrationFile, MigrationSet, Version

# History row types (the `type` column).
SQL, UNDO_SQL, BASELINE, DELETE = "SQL", "UNDO_SQL", "BASELINE", "DELETE"


class State(StrEnum):
    APPLIED = "applied"
    PENDING = "pending"
    OUTDATED = "outdated"  # a repeatable whose file changed since it was applied
    FAILED = "failed"
    MISSING = "missing"  # applied, but its file is gone
    CHANGED = "changed"  # applied, but its file's checksum differs
    RENAMED = "renamed"  # applied, but its file's description differs
    OUT_OF_ORDER = "out of order"  # pending with a version below the latest applied one
    UNDONE = "undone"
    BELOW_BASELINE = "below baseline"
    BASELINE = "baseline"
    DELETED = "deleted"  # missing, acknowledged by repair


@dataclass(frozen=True)
class Entry:
    """One line of `dbfleet status`: a migration (file and/or history row) and its state."""

    kind: Kind | None  # None for the baseline marker
    version: Version | None
    description: str
    script: str
    state: State
    file: MigrationFile | None
    row: HistoryRow | None

    @property
    def needs_run(self) -> bool:
        return self.state in (State.PENDING, State.OUTDATED, State.UNDONE)


@dataclass(frozen=True)
class TargetState:
    """All entries of one target, in the order they apply."""

    entries: tuple[Entry, ...]
    baseline: Version | None
    history_exists: bool

    @property
    def head(self) -> Version | None:
        """The highest version applied (or baselined) successfully."""
        applied = [
            e.version
            for e in self.entries
            if e.version is not None
            and e.kind is not Kind.REPEATABLE
            and e.state
            in (State.APPLIED, State.CHANGED, State.RENAMED, State.MISSING, State.BASELINE)
        ]
        return max(applied) if applied else None

    def pending(self, *, target: Version | None = None, out_of_order: bool = False) -> list[Entry]:
        """What `migrate` runs, in order: versioned up to `target`, then changed repeatables.

        Repeatables (views, routines) are written against the latest schema, so a `target` below
        the newest versioned migration leaves them for a later run.
        """
        versioned = [
            e
            for e in self.entries
            if e.kind is Kind.VERSIONED
            and e.version is not None
            and (e.needs_run or (out_of_order and e.state is State.OUT_OF_ORDER))
            and (target is None or e.version <= target)
        ]
        newest = max(
            (e.version for e in self.entries if e.kind is Kind.VERSIONED and e.version is not None),
            default=None,
        )
        stops_short = target is not None and newest is not None and target < newest
        repeatable = [
            e for e in self.entries if e.kind is Kind.REPEATABLE and e.needs_run and not stops_short
        ]
        return sorted(versioned, key=lambda e: e.version or Version((0,))) + repeatable

    def problems(self, *, out_of_order: bool = False, failures_only: bool = False) -> list[str]:
        """Why the history and the files disagree, each with what to do about it.

        `failures_only` keeps just the failed entries: they block every run, even when
        validation on migrate is switched off.
        """
        found = []
        for e in self.entries:
            name = e.script or e.description
            if e.state is State.FAILED:
                assert e.row is not None
                if e.row.type == UNDO_SQL:
                    found.append(
                        f"undo {e.row.script} failed on {_when(e.row)} and may be partly applied: "
                        "finish or revert it by hand, then run `dbfleet repair` (the migration "
                        "then counts as applied)"
                    )
                else:
                    found.append(
                        f"{name} failed on {_when(e.row)} and may be partly applied: fix the "
                        "database by hand, then run `dbfleet repair`"
                    )
            elif failures_only:
                continue
            elif e.state is State.CHANGED:
                found.append(
                    f"{name} was edited after it was applied (checksum differs): restore it, or "
                    "run `dbfleet repair` to accept the new checksum"
                )
            elif e.state is State.MISSING:
                found.append(
                    f"{name} was applied on {_when(e.row)} but its file is gone: restore it, or "
                    "run `dbfleet repair` to mark it deleted"
                )
            elif e.state is State.RENAMED:
                assert e.row is not None
                found.append(
                    f"{name}: description changed from '{e.row.description}' to "
                    f"'{e.description}' after it was applied: rename it back, or run "
                    "`dbfleet repair`"
                )
            elif e.state is State.OUT_OF_ORDER and not out_of_order:
                found.append(
                    f"{name} is pending but older than the latest applied version {self.head}: "
                    "give it a newer version, or allow it with --out-of-order"
                )
        return found


def _is_version(text: str) -> bool:
    try:
        Version.parse(text)
    except ValueError:
        return False
    return True


def _when(row: HistoryRow | None) -> str:
    if row is None or row.installed_on is None:
        return "an unknown date"
    return str(row.installed_on)[:19]


def reconcile(
    files: MigrationSet, rows: Sequence[HistoryRow], *, history_exists: bool
) -> TargetState:
    """Match files and history rows and give each migration its state."""
    latest: dict[Version, HistoryRow] = {}
    repeat_rows: dict[str, HistoryRow] = {}
    baseline: Version | None = None
    baseline_row: HistoryRow | None = None
    for record in rows:  # in rank order, so later rows win
        if record.version is not None and not _is_version(record.version):
            raise DbfleetError(
                f"history row {record.installed_rank} has version '{record.version}', which "
                "dbfleet cannot read",
                hint="the history table may belong to another tool: set [migrations] "
                "history_table to another name",
            )
        if record.type == BASELINE and record.version:
            baseline, baseline_row = Version.parse(record.version), record
        elif record.version is None:
            repeat_rows[record.description] = record
        elif record.type in (SQL, UNDO_SQL, DELETE):
            latest[Version.parse(record.version)] = record

    entries: list[Entry] = []
    file: MigrationFile | None
    row: HistoryRow | None
    if baseline is not None and baseline_row is not None:
        entries.append(
            Entry(None, baseline, baseline_row.description, "", State.BASELINE, None, baseline_row)
        )
    head = max((v for v, r in latest.items() if r.type == SQL and r.success), default=baseline)
    if baseline is not None and head is not None and baseline > head:
        head = baseline
    by_version = {m.version: m for m in files.versioned if m.version is not None}
    for version in sorted(set(by_version) | set(latest)):
        file, row = by_version.get(version), latest.get(version)
        kind = Kind.VERSIONED
        if row is None:
            assert file is not None
            if baseline is not None and version <= baseline:
                state = State.BELOW_BASELINE
            elif head is not None and version < head:
                state = State.OUT_OF_ORDER
            else:
                state = State.PENDING
        elif row.type == DELETE:
            if file is None:
                state = State.DELETED
            else:
                state = State.OUT_OF_ORDER if head is not None and version < head else State.PENDING
                row = None
        elif not row.success:
            state = State.FAILED
        elif row.type == UNDO_SQL:
            state = State.UNDONE if file is not None else State.DELETED
        elif file is None:
            state = State.MISSING
        elif row.checksum != file.checksum:
            state = State.CHANGED
        elif row.description != file.description:
            state = State.RENAMED
        else:
            state = State.APPLIED
        entries.append(
            Entry(
                kind,
                version,
                file.description if file else row.description if row else "",
                file.script if file else row.script if row else "",
                state,
                file,
                row,
            )
        )
    by_description = {m.description: m for m in files.repeatable}
    for description in sorted(set(by_description) | set(repeat_rows)):
        file, row = by_description.get(description), repeat_rows.get(description)
        if row is None:
            state = State.PENDING
        elif row.type == DELETE:
            state = State.DELETED if file is None else State.PENDING
        elif not row.success:
            state = State.FAILED
        elif file is None:
            state = State.MISSING
        elif row.checksum != file.checksum:
            state = State.OUTDATED
        else:
            state = State.APPLIED
        entries.append(
            Entry(
                Kind.REPEATABLE,
                None,
                description,
                file.script if file else row.script if row else "",
                state,
                file,
                row,
            )
        )
    return TargetState(tuple(entries), baseline, history_exists)
