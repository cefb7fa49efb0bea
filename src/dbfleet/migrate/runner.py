"""Running migrations against one target: migrate, undo, baseline, repair — under the lock."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Protocol

from dbfleet.config import Environment, Project
from dbfleet.engines import connect
from dbfleet.engines.base import Connection, NewHistoryRow, Statement, StatementError
from dbfleet.errors import DbfleetError, MigrationFailed, ValidationError
from dbfleet.migrate.files import Kind, MigrationFile, MigrationSet, Version, discover
from dbfleet.migrate.placeholders import fill
from dbfleet.migrate.state import (
    BASELINE,
    DELETE,
    SQL,
    UNDO_SQL,
    Entry,
    State,
    TargetState,
    reconcile,
)
from dbfleet.secrets import redact

_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)


class Observer(Protocol):
    """Receives progress; the CLI renders it as a progress bar or plain lines."""

    def begin(self, total: int, verb: str) -> None: ...
    def started(self, label: str) -> None: ...
    def finished(self, label: str, milliseconds: int) -> None: ...


class _Silent:
    def begin(self, total: int, verb: str) -> None: ...
    def started(self, label: str) -> None: ...
    def finished(self, label: str, milliseconds: int) -> None: ...


@dataclass(frozen=True)
class Step:
    """One statement as it will run, with the file and line it comes from."""

    sql: str
    script: str
    line: int


@dataclass(frozen=True)
class Unit:
    """One migration (or undo) as it will run: its statements and its history row."""

    entry: Entry
    file: MigrationFile
    steps: tuple[Step, ...]
    transactional: bool
    row_type: str


@dataclass
class RunResult:
    """What a command did (or, with dry_run, would do)."""

    applied: list[tuple[str, int]] = field(default_factory=list)
    sql: str | None = None
    messages: list[str] = field(default_factory=list)


class Target:
    """One database as a migration target: its connection, history table and lock."""

    def __init__(self, project: Project, env: Environment, *, create: bool = True) -> None:
        self.project = project
        self.env = env
        self.conn: Connection = connect(env.url, create=create)
        self.dialect = self.conn.dialect
        self.table = env.history_table
        self.schema = env.history_schema

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        key = f"{self.env.url.host}:{self.env.url.database}:{self.schema or ''}.{self.table}"
        with self.conn.lock(key, self.project.lock_wait_seconds):
            yield

    def history_setup_sql(self) -> list[str]:
        """Statements that create the history table (and its schema) when it is missing."""
        if self.conn.table_exists(self.table, self.schema):
            return []
        return self.conn.ensure_schema(self.schema) + self.dialect.create_history_table(
            self.table, self.schema
        )

    def ensure_history(self) -> None:
        for sql in self.history_setup_sql():
            self.conn.execute(sql)

    def state(self, files: MigrationSet) -> TargetState:
        exists = self.conn.table_exists(self.table, self.schema)
        rows = self.conn.history(self.table, self.schema) if exists else []
        return reconcile(files, rows, history_exists=exists)

    def insert_sql(self, row: NewHistoryRow) -> str:
        return self.dialect.insert_history(self.table, self.schema, row)


@contextmanager
def open_target(project: Project, env: Environment, *, create: bool = True) -> Iterator[Target]:
    target = Target(project, env, create=create)
    try:
        yield target
    finally:
        target.close()


def load_files(project: Project) -> MigrationSet:
    return discover(project.locations)


def status(project: Project, env: Environment) -> TargetState:
    """The state of every migration in the target; reads only (no lock, no writes)."""
    files = load_files(project)
    with open_target(project, env, create=False) as target:
        return target.state(files)


def validate(project: Project, env: Environment, *, out_of_order: bool | None = None) -> list[str]:
    """Problems between history and files (empty when valid); changes nothing."""
    allow = project.out_of_order if out_of_order is None else out_of_order
    return status(project, env).problems(out_of_order=allow)


class Runner:
    """Turns entries into units and runs (or renders) them against a target."""

    def __init__(
        self,
        target: Target,
        files: MigrationSet,
        placeholders: dict[str, str],
        observer: Observer | None = None,
    ) -> None:
        self.target = target
        self.files = files
        self.dialect = target.dialect
        self.observer = observer or _Silent()
        self.placeholders = {
            **placeholders,
            "dbfleet:environment": target.env.name,
            "dbfleet:database": target.env.url.database,
            "dbfleet:table": target.table,
            "dbfleet:schema": target.schema or "",
        }
        self.user = target.conn.current_user()

    # --- building ---------------------------------------------------------------------------

    def steps_of(
        self, file: MigrationFile, running: MigrationFile | None = None
    ) -> tuple[Step, ...]:
        """The statements of `file`; callbacks see the migration `running` as the filename."""
        values = {**self.placeholders, "dbfleet:filename": (running or file).path.name}
        text = (
            fill(file.text, values, file.script)
            if self.target.project.placeholder_replacement
            else file.text
        )
        try:
            statements = self.dialect.split(text)
        except DbfleetError as exc:
            line = getattr(exc, "line", None)
            where = f"{file.script}:{line}" if line else file.script
            raise MigrationFailed(f"{where}: {exc}") from None
        return tuple(Step(s.text, file.script, s.line) for s in statements)

    def unit(self, entry: Entry, file: MigrationFile, row_type: str) -> Unit:
        steps = self.steps_of(file)
        no_tx = self.dialect.declares_no_transaction(file.text) or any(
            self.dialect.requires_no_transaction(Statement(s.sql, s.line)) for s in steps
        )
        return Unit(entry, file, steps, self.dialect.transactional_ddl and not no_tx, row_type)

    def callback_steps(self, event: str, running: MigrationFile | None = None) -> list[Step]:
        return [s for f in self.files.callbacks.get(event, ()) for s in self.steps_of(f, running)]

    def history_row(self, unit: Unit, milliseconds: int, success: bool) -> NewHistoryRow:
        version = unit.entry.version if unit.entry.kind is not Kind.REPEATABLE else None
        return NewHistoryRow(
            version=str(version) if version is not None else None,
            description=unit.file.description
            if unit.row_type != UNDO_SQL
            else unit.entry.description,
            type=unit.row_type,
            script=unit.file.script,
            checksum=unit.file.checksum,
            installed_by=self.user,
            execution_time=milliseconds,
            success=success,
        )

    # --- running ----------------------------------------------------------------------------

    def run(
        self,
        units: Sequence[Unit],
        *,
        before: str,
        each_before: str,
        each_after: str,
        after: str,
        single_transaction: bool,
    ) -> list[tuple[str, int]]:
        conn = self.target.conn
        done: list[tuple[str, int]] = []
        self.observer.begin(len(units), "undid" if before == "beforeUndo" else "applied")
        if single_transaction:
            conn.begin()
        try:
            self._run_steps(self.callback_steps(before), None)
            for unit in units:
                label = unit.entry.script
                self.observer.started(label)
                milliseconds = self._run_unit(unit, each_before, each_after, single_transaction)
                self.observer.finished(label, milliseconds)
                done.append((label, milliseconds))
            self._run_steps(self.callback_steps(after), None)
            if single_transaction:
                conn.commit()
        except DbfleetError:
            if single_transaction:
                conn.rollback()
            self._after_error()
            raise
        return done

    def _run_unit(self, unit: Unit, each_before: str, each_after: str, in_outer_tx: bool) -> int:
        conn = self.target.conn
        started = time.perf_counter()
        steps = self._with_callbacks(unit, each_before, each_after)
        if unit.transactional:
            if not in_outer_tx:
                conn.begin()
            try:
                self._run_steps(steps, unit)
                milliseconds = _elapsed(started)
                conn.execute(self.target.insert_sql(self.history_row(unit, milliseconds, True)))
            except DbfleetError:
                if not in_outer_tx:
                    conn.rollback()
                raise
            if not in_outer_tx:
                conn.commit()
            return milliseconds
        # Not transactional: statements commit one by one (MariaDB DDL, CONCURRENTLY, ...).
        try:
            self._run_steps(steps, unit)
        except MigrationFailed as failure:
            if failure.statement_index > 0:  # earlier statements are committed: record it
                row = self.history_row(unit, _elapsed(started), False)
                conn.execute(self.target.insert_sql(row))
            raise
        milliseconds = _elapsed(started)
        conn.execute(self.target.insert_sql(self.history_row(unit, milliseconds, True)))
        return milliseconds

    def _with_callbacks(self, unit: Unit, each_before: str, each_after: str) -> list[Step]:
        return [
            *self.callback_steps(each_before, unit.file),
            *unit.steps,
            *self.callback_steps(each_after, unit.file),
        ]

    def _run_steps(self, steps: Sequence[Step], unit: Unit | None) -> None:
        for index, step in enumerate(steps):
            try:
                self.target.conn.execute(step.sql)
            except StatementError as exc:
                raise self._failure(step, index, exc, unit) from None

    def _failure(
        self, step: Step, index: int, exc: StatementError, unit: Unit | None
    ) -> MigrationFailed:
        line = step.line
        if exc.position:
            lead = len(_LEADING_NOISE.match(step.sql)[0])  # type: ignore[index]
            line += step.sql.count("\n", lead, max(lead, exc.position - 1))
        preview = " ".join(step.sql[len(_LEADING_NOISE.match(step.sql)[0]) :].split())  # type: ignore[index]
        preview = preview if len(preview) <= 80 else preview[:77] + "..."
        message = f"{step.script}:{line}: statement {index + 1} failed: {exc.message} [{preview}]"
        if unit is None or unit.transactional:
            hint = (
                "nothing of this migration was applied (rolled back); fix it and run migrate again"
            )
        elif index == 0:
            hint = "nothing of this migration was applied; fix it and run migrate again"
        else:
            hint = (
                f"statements 1-{index} of {step.script} were committed ({self.dialect.name} cannot "
                "roll them back); undo them or finish the change by hand, then run `dbfleet repair`"
            )
        return MigrationFailed(redact(message), hint=hint, statement_index=index)

    def _after_error(self) -> None:
        # A failing error callback must not hide the original failure, which is the one to report.
        with suppress(MigrationFailed):
            self._run_steps(self.callback_steps("afterMigrateError"), None)

    # --- rendering (dry run) ----------------------------------------------------------------

    def render(
        self,
        units: Sequence[Unit],
        *,
        setup: Sequence[str],
        before: str,
        each_before: str,
        each_after: str,
        after: str,
        single_transaction: bool,
    ) -> str:
        out: list[str] = [
            f"-- dbfleet dry run against {self.target.env.url.display} "
            f"({len(units)} to run); nothing below has been executed"
        ]
        if setup:
            out += ["", "-- create the history table", *(s + ";" for s in setup)]
        if single_transaction:
            out += ["", "BEGIN;"]
        out += _render_steps(self.callback_steps(before), f"callback {before}")
        for unit in units:
            out += [
                "",
                f"-- {unit.entry.script}"
                + ("" if unit.transactional else " (runs outside a transaction)"),
            ]
            if unit.transactional and not single_transaction:
                out.append("BEGIN;")
            out += [s.sql + ";" for s in self._with_callbacks(unit, each_before, each_after)]
            out.append("-- execution_time (0 here) is measured when it runs")
            out.append(self.target.insert_sql(self.history_row(unit, 0, True)) + ";")
            if unit.transactional and not single_transaction:
                out.append("COMMIT;")
        out += _render_steps(self.callback_steps(after), f"callback {after}")
        if single_transaction:
            out.append("COMMIT;")
        return "\n".join(out) + "\n"


def _render_steps(steps: Sequence[Step], title: str) -> list[str]:
    return ["", f"-- {title}", *(s.sql + ";" for s in steps)] if steps else []


def _elapsed(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


# --- commands ---------------------------------------------------------------------------------


def migrate(
    project: Project,
    env: Environment,
    *,
    target_version: Version | None = None,
    dry_run: bool = False,
    single_transaction: bool = False,
    out_of_order: bool | None = None,
    placeholders: dict[str, str] | None = None,
    observer: Observer | None = None,
) -> RunResult:
    """Apply pending migrations in order (or, with dry_run, return the SQL that would run)."""
    files = load_files(project)
    allow = project.out_of_order if out_of_order is None else out_of_order
    values = {**env.placeholders, **(placeholders or {})}
    with open_target(project, env, create=not dry_run) as target:
        if dry_run:
            return _plan_migrate(target, files, values, target_version, allow, single_transaction)
        with target.locked():
            target.ensure_history()
            state = target.state(files)
            _check(project, state, allow)
            runner = Runner(target, files, values, observer)
            units = [
                runner.unit(e, e.file, SQL)
                for e in state.pending(target=target_version, out_of_order=allow)
                if e.file is not None
            ]
            _check_single_transaction(runner, units, single_transaction)
            applied = runner.run(
                units,
                before="beforeMigrate",
                each_before="beforeEachMigrate",
                each_after="afterEachMigrate",
                after="afterMigrate",
                single_transaction=single_transaction,
            )
            return RunResult(applied=applied)


def _plan_migrate(
    target: Target,
    files: MigrationSet,
    values: dict[str, str],
    target_version: Version | None,
    allow: bool,
    single: bool,
) -> RunResult:
    setup = target.history_setup_sql()
    state = target.state(files)
    _check(target.project, state, allow)
    runner = Runner(target, files, values)
    units = [
        runner.unit(e, e.file, SQL)
        for e in state.pending(target=target_version, out_of_order=allow)
        if e.file is not None
    ]
    _check_single_transaction(runner, units, single)
    sql = runner.render(
        units,
        setup=setup,
        before="beforeMigrate",
        each_before="beforeEachMigrate",
        each_after="afterEachMigrate",
        after="afterMigrate",
        single_transaction=single,
    )
    return RunResult(applied=[(u.entry.script, 0) for u in units], sql=sql)


def _check(project: Project, state: TargetState, out_of_order: bool) -> None:
    if not project.validate_on_migrate:
        problems = [p for p in state.problems(out_of_order=out_of_order) if " failed on " in p]
    else:
        problems = state.problems(out_of_order=out_of_order)
    if problems:
        raise ValidationError("validation failed, nothing was run: " + "; ".join(problems))


def _check_single_transaction(runner: Runner, units: Sequence[Unit], single: bool) -> None:
    if not single:
        return
    if not runner.dialect.transactional_ddl:
        raise DbfleetError(
            f"--single-transaction is not possible on {runner.dialect.name}: its DDL commits "
            "implicitly",
            hint="run without --single-transaction",
        )
    blocking = [u.file.script for u in units if not u.transactional]
    if blocking:
        raise DbfleetError(
            "--single-transaction is not possible: "
            + ", ".join(blocking)
            + " must run outside a transaction",
            hint="run without --single-transaction",
        )


def undo(
    project: Project,
    env: Environment,
    *,
    to: Version | None = None,
    dry_run: bool = False,
    placeholders: dict[str, str] | None = None,
    observer: Observer | None = None,
) -> RunResult:
    """Run U scripts in reverse order: the latest applied migration, or all above `to`."""
    files = load_files(project)
    values = {**env.placeholders, **(placeholders or {})}
    with open_target(project, env, create=False) as target, target.locked():
        state = target.state(files)
        _check(project, state, project.out_of_order)
        applied = [
            e for e in state.entries if e.kind is Kind.VERSIONED and e.state is State.APPLIED
        ]
        applied.sort(key=lambda e: e.version or Version((0,)), reverse=True)
        if to is None:
            chosen = applied[:1]
        else:
            chosen = [e for e in applied if e.version is not None and e.version > to]
        if not chosen:
            return RunResult(messages=["nothing to undo"])
        lacking = [e.script for e in chosen if e.version not in files.undo]
        if lacking:
            raise DbfleetError(
                "cannot undo: no undo script for " + ", ".join(lacking),
                hint="write U<version>__<description>.sql for each; nothing was undone",
            )
        runner = Runner(target, files, values, observer)
        units = []
        for e in chosen:
            assert e.version is not None
            u_file = files.undo[e.version]
            units.append(runner.unit(_retitle(e, u_file), u_file, UNDO_SQL))
        if dry_run:
            sql = runner.render(
                units,
                setup=[],
                before="beforeUndo",
                each_before="",
                each_after="",
                after="afterUndo",
                single_transaction=False,
            )
            return RunResult(applied=[(u.entry.script, 0) for u in units], sql=sql)
        done = runner.run(
            units,
            before="beforeUndo",
            each_before="",
            each_after="",
            after="afterUndo",
            single_transaction=False,
        )
        return RunResult(applied=done)


def _retitle(entry: Entry, undo_file: MigrationFile) -> Entry:
    return Entry(
        entry.kind,
        entry.version,
        entry.description,
        undo_file.script,
        entry.state,
        undo_file,
        entry.row,
    )


def baseline(project: Project, env: Environment, version: Version, description: str) -> RunResult:
    """Adopt an existing database: record `version` as its starting point."""
    with open_target(project, env) as target, target.locked():
        target.ensure_history()
        rows = target.conn.history(target.table, target.schema)
        if rows:
            raise DbfleetError(
                f"{env.url.display} already has a history ({len(rows)} rows in {target.table})",
                hint="baseline only adopts a database that dbfleet has not migrated yet",
            )
        row = NewHistoryRow(
            str(version),
            description,
            BASELINE,
            description,
            None,
            target.conn.current_user(),
            0,
            True,
        )
        target.conn.execute(target.insert_sql(row))
        return RunResult(messages=[f"baselined {env.url.display} at version {version}"])


def repair(project: Project, env: Environment) -> RunResult:
    """Remove failed rows, realign checksums and descriptions, mark missing files deleted."""
    files = load_files(project)
    changes: list[str] = []
    with open_target(project, env, create=False) as target, target.locked():
        state = target.state(files)
        conn, dialect = target.conn, target.dialect
        sql: list[str] = []
        for e in state.entries:
            name = e.script or e.description
            if e.state is State.FAILED:
                changes.append(f"removed the failed entry of {name}")
            elif e.state in (State.CHANGED, State.RENAMED):
                assert e.row is not None and e.file is not None
                sql.append(
                    dialect.update_history_checksum(
                        target.table,
                        target.schema,
                        e.row.installed_rank,
                        e.file.checksum,
                        e.file.description,
                    )
                )
                changes.append(f"realigned the checksum and description of {name} with its file")
            elif e.state is State.MISSING:
                assert e.row is not None
                sql.append(
                    target.insert_sql(
                        NewHistoryRow(
                            e.row.version,
                            e.row.description,
                            DELETE,
                            e.row.script,
                            e.row.checksum,
                            conn.current_user(),
                            0,
                            True,
                        )
                    )
                )
                changes.append(f"marked {name} as deleted (its file is gone)")
        if any(e.state is State.FAILED for e in state.entries):
            sql.insert(0, dialect.delete_failed_history(target.table, target.schema))
        if sql:
            if dialect.transactional_ddl:
                conn.begin()
            for statement in sql:
                conn.execute(statement)
            if dialect.transactional_ddl:
                conn.commit()
    return RunResult(messages=changes or ["nothing to repair"])
