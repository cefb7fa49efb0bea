"""Running migrations on a target: units of work built once, then run, or rendered as SQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Protocol

from dbfleet.engines.base import NewHistoryRow, Statement, StatementError
from dbfleet.errors import DbfleetError, MigrationFailed
from dbfleet.migrate.files import Kind, MigrationFile, MigrationSet
from dbfleet.migrate.placeholders import fill
from dbfleet.migrate.state import SQL, UNDO_SQL, Entry
from dbfleet.migrate.target import Target
from dbfleet.secrets import redact


class Observer(Protocol):
    """Receives progress; the CLI renders it as a progress bar or plain lines."""

    def begin(self, total: int, verb: str) -> None: ...
    def started(self, label: str) -> None: ...
    def finished(self, label: str, milliseconds: int) -> None: ...


class Deadline(Protocol):
    """A time limit on a run (a fleet's tenant_timeout). Its owner cancels the statement that
    runs when it passes; the runner asks it before each migration and each statement it sends
    on its own, so that no new work starts once it has passed."""

    def passed(self, script: str) -> str | None:
        """None while there is time; else why the run stops, naming `script`."""
        ...


class _Silent:
    def begin(self, total: int, verb: str) -> None: ...
    def started(self, label: str) -> None: ...
    def finished(self, label: str, milliseconds: int) -> None: ...


@dataclass(frozen=True)
class Phase:
    """What a run does: the history row type it writes and the callbacks around it."""

    row_type: str
    verb: str
    before: str
    before_each: str
    after_each: str
    after: str
    on_error: str


MIGRATE = Phase(
    SQL,
    "applied",
    "beforeMigrate",
    "beforeEachMigrate",
    "afterEachMigrate",
    "afterMigrate",
    "afterMigrateError",
)
UNDO = Phase(UNDO_SQL, "undid", "beforeUndo", "", "", "afterUndo", "")


@dataclass(frozen=True)
class Step:
    """One statement as it will run, with the file and line it comes from."""

    sql: str
    script: str
    line: int

    @property
    def statement(self) -> Statement:
        return Statement(self.sql, self.line)


@dataclass(frozen=True)
class Unit:
    """One migration (or undo) as it will run: its statements and the callbacks around them."""

    entry: Entry
    file: MigrationFile
    before: tuple[Step, ...]
    steps: tuple[Step, ...]
    after: tuple[Step, ...]
    transactional: bool

    @property
    def label(self) -> str:
        return self.file.script


@dataclass(frozen=True)
class Work:
    """Everything one command will run, in order: the one plan that is run or rendered."""

    phase: Phase
    units: tuple[Unit, ...]
    before: tuple[Step, ...]
    after: tuple[Step, ...]
    single_transaction: bool = False


class Runner:
    """Builds the work for a target, runs it, or renders it as the SQL it would run."""

    def __init__(
        self,
        target: Target,
        files: MigrationSet,
        placeholders: dict[str, str],
        observer: Observer | None = None,
        *,
        environment: str = "",
        placeholder_replacement: bool = True,
        deadline: Deadline | None = None,
    ) -> None:
        self.target = target
        self.deadline = deadline
        self.conn = target.conn
        self.dialect = target.dialect
        self.files = files
        self.observer = observer or _Silent()
        self.replace_placeholders = placeholder_replacement
        self.placeholders = {
            **placeholders,
            "dbfleet:environment": environment,
            "dbfleet:database": target.conn.url.database,
            "dbfleet:table": target.table,
            "dbfleet:schema": target.schema or "",
        }
        self.user = target.conn.current_user()

    # --- building ---------------------------------------------------------------------------

    def prepare(
        self, entries: Sequence[Entry], phase: Phase, *, single_transaction: bool = False
    ) -> Work:
        units = []
        for entry in entries:
            file = self._script_for(entry, phase)
            steps = self._steps(file)
            no_tx = self.dialect.declares_no_transaction(file.text) or any(
                self.dialect.requires_no_transaction(s.statement) for s in steps
            )
            units.append(
                Unit(
                    entry,
                    file,
                    before=self._callback(phase.before_each, file),
                    steps=steps,
                    after=self._callback(phase.after_each, file),
                    transactional=self.dialect.transactional_ddl and not no_tx,
                )
            )
        work = Work(
            phase,
            tuple(units),
            self._callback(phase.before),
            self._callback(phase.after),
            single_transaction,
        )
        if single_transaction:
            _check_single_transaction(
                self.dialect.display_name, self.dialect.transactional_ddl, work
            )
        return work

    def _script_for(self, entry: Entry, phase: Phase) -> MigrationFile:
        """The file a unit runs: the migration itself, or its undo script."""
        file = entry.file
        if phase is UNDO and entry.version is not None:
            file = self.files.undo.get(entry.version)
        if file is None:
            raise DbfleetError(f"no script to run for {entry.script or entry.description}")
        return file

    def _steps(self, file: MigrationFile, running: MigrationFile | None = None) -> tuple[Step, ...]:
        """The statements of `file`; callbacks see the migration `running` as the filename."""
        values = {**self.placeholders, "dbfleet:filename": (running or file).path.name}
        text = fill(file.text, values, file.script) if self.replace_placeholders else file.text
        try:
            statements = self.dialect.split(text)
        except DbfleetError as exc:
            line = getattr(exc, "line", None)
            where = f"{file.script}:{line}" if line else file.script
            raise MigrationFailed(f"{where}: {exc}") from None
        return tuple(Step(s.text, file.script, s.line) for s in statements)

    def _callback(self, event: str, running: MigrationFile | None = None) -> tuple[Step, ...]:
        if not event:
            return ()
        return tuple(
            s for f in self.files.callbacks.get(event, ()) for s in self._steps(f, running)
        )

    def history_row(
        self, unit: Unit, phase: Phase, milliseconds: int, success: bool
    ) -> NewHistoryRow:
        entry = unit.entry
        return NewHistoryRow(
            version=str(entry.version)
            if entry.kind is not Kind.REPEATABLE and entry.version
            else None,
            description=entry.description,
            type=phase.row_type,
            script=unit.file.script,
            checksum=unit.file.checksum,
            installed_by=self.user,
            execution_time=milliseconds,
            success=success,
        )

    # --- running ----------------------------------------------------------------------------

    def run(self, work: Work) -> list[tuple[str, int]]:
        """Run the work; on failure, raise MigrationFailed after the error callback."""
        done: list[tuple[str, int]] = []
        self.observer.begin(len(work.units), work.phase.verb)
        try:
            with self.conn.transaction(enabled=work.single_transaction):
                self._run_steps(
                    work.before,
                    f"{work.phase.before} callback: no migration was run",
                    callback=True,
                )
                for unit in work.units:
                    late = self._late(unit.label)
                    if late:
                        raise MigrationFailed(f"{late}: not started", hint="run it again")
                    self.observer.started(unit.label)
                    milliseconds = self._run_unit(unit, work)
                    self.observer.finished(unit.label, milliseconds)
                    done.append((unit.label, milliseconds))
                self._run_steps(
                    work.after,
                    f"{work.phase.after} callback: the {len(done)} migration(s) before it were "
                    "applied and committed; fix it, and the next run runs it again",
                    callback=True,
                )
        except DbfleetError:
            if work.phase.on_error:
                # A failing error callback must not hide the failure, which is the one to report.
                with suppress(DbfleetError):
                    self._run_steps(self._callback(work.phase.on_error), "", callback=True)
            raise
        return done

    def _run_unit(self, unit: Unit, work: Work) -> int:
        started = time.perf_counter()
        rolled_back = "nothing of it was applied (rolled back); fix it and run again"
        if unit.transactional:
            own = not work.single_transaction  # else the run's one transaction holds it
            if own:
                self.conn.begin()
            try:
                groups = [
                    (unit.before, f"{work.phase.before_each} callback: {rolled_back}", True),
                    (unit.steps, rolled_back, False),
                    (unit.after, f"{work.phase.after_each} callback: {rolled_back}", True),
                ]
                everything = [step.sql for steps, _, _ in groups for step in steps]
                try:
                    self.conn.run_in_transaction(everything)
                except StatementError as exc:
                    late = self._late(unit.label)
                    if late:  # cancelled at the deadline; which statement ran is not known
                        raise MigrationFailed(f"{late}: {exc.message}", hint=rolled_back) from None
                    # Name the failing statement within its own file (callback or migration).
                    index = exc.index
                    for steps, hint, callback in groups:
                        if index < len(steps):
                            raise self._failure(steps, index, exc, hint, callback) from None
                        index -= len(steps)
                    raise
                milliseconds = _elapsed(started)
                row = self.history_row(unit, work.phase, milliseconds, True)
                if own:  # the history row and the COMMIT travel together
                    self._write_history(self.target.insert_sql(row), unit, commit=True)
                else:
                    self._write_history(self.target.insert_sql(row), unit)
            except BaseException:
                if own:
                    with suppress(DbfleetError):  # a broken connection has rolled back already
                        self.conn.rollback()
                raise
            return milliseconds
        # Outside a transaction each statement commits on its own. A row marked as not (yet)
        # successful goes in first, so that a failure, a crash or a kill leaves a visible failed
        # entry that blocks the next run until a human has looked and run `dbfleet repair`.
        row = self.history_row(unit, work.phase, 0, False)
        self._write_history(self.target.insert_sql(row), unit)
        committed = (
            f"statements 1-{{n}} of {unit.label} were committed ({self.dialect.display_name} "
            "cannot roll them back): finish or undo them by hand, then run `dbfleet repair`"
        )
        try:
            self._run_steps(
                unit.before,
                f"{work.phase.before_each} callback: no statement of {unit.label} was run; "
                "fix it and run again",
                callback=True,
            )
            self._run_steps(
                unit.steps, committed, first_hint="nothing of it was applied; fix it and run again"
            )
        except MigrationFailed as failure:
            if failure.statement_index == 0 or failure.in_callback:
                self._write_history(self.target.forget_sql(row), unit)
            raise
        self._run_steps(
            unit.after,
            f"{work.phase.after_each} callback: the statements of {unit.label} were committed; "
            "fix it, then run `dbfleet repair`",
            callback=True,
        )
        milliseconds = _elapsed(started)
        self._write_history(self.target.finish_sql(replace(row, execution_time=milliseconds)), unit)
        return milliseconds

    def _write_history(self, sql: str, unit: Unit, *, commit: bool = False) -> None:
        try:
            if commit:
                self.conn.commit_with(sql)
            else:
                self.conn.execute(sql)
        except StatementError as exc:
            if exc.index:  # the COMMIT failed (a deferred constraint), not the history row
                raise MigrationFailed(
                    f"{unit.label}: its COMMIT failed: {exc.message}",
                    hint="nothing of it was applied (rolled back); fix it and run again",
                ) from None
            raise MigrationFailed(
                f"{unit.label}: recording it in {self.target.table} failed: {exc.message}",
                hint="check the history table; run `dbfleet status` to see where the target is",
            ) from None

    def _run_steps(
        self,
        steps: Sequence[Step],
        hint: str,
        *,
        callback: bool = False,
        first_hint: str | None = None,
    ) -> None:
        """Run statements one by one; a failure names the file, line and statement."""
        for index, step in enumerate(steps):
            hint_here = first_hint if index == 0 and first_hint else hint
            late = self._late(step.script)
            if late:
                raise MigrationFailed(
                    late,
                    hint=hint_here.replace("{n}", str(index)),
                    statement_index=index,
                    in_callback=callback,
                )
            try:
                self.conn.execute(step.sql)
            except StatementError as exc:
                raise self._failure(steps, index, exc, hint_here, callback) from None

    def _late(self, script: str) -> str | None:
        return self.deadline.passed(script) if self.deadline is not None else None

    def _failure(
        self, steps: Sequence[Step], index: int, exc: StatementError, hint: str, callback: bool
    ) -> MigrationFailed:
        step = steps[index]
        line = self.dialect.error_line(step.statement, exc.position)
        message = (
            f"{step.script}:{line}: statement {index + 1} failed: {exc.message} "
            f"[{self.dialect.summary(step.statement)}]"
        )
        late = self._late(step.script)
        if late:  # the statement was cancelled at the deadline
            message = f"{late}: {message}"
        return MigrationFailed(
            redact(message),
            hint=hint.replace("{n}", str(index)),
            statement_index=index,
            in_callback=callback,
        )

    # --- rendering (dry run) ----------------------------------------------------------------

    def render(self, work: Work, *, setup: Sequence[str] = ()) -> str:
        """The work as one script: exactly the statements a run would send, in order."""
        d = self.dialect
        out: list[str] = [
            f"-- dbfleet dry run against {self.conn.url.display} "
            f"({len(work.units)} to run); nothing below has been executed"
        ]
        if setup:
            out += ["", "-- create the history table", *(d.render_statement(s) for s in setup)]
        if work.single_transaction:
            out += ["", d.render_statement(d.begin_statement)]
        out += _section(f"{work.phase.before} callback", work.before, d.render_statement)
        for unit in work.units:
            row = self.history_row(unit, work.phase, 0, unit.transactional)
            body = [d.render_statement(s.sql) for s in (*unit.before, *unit.steps, *unit.after)]
            if unit.transactional:
                out += ["", f"-- {unit.label}"]
                if not work.single_transaction:
                    out.append(d.render_statement(d.begin_statement))
                out += body
                out.append("-- execution_time (0 here) is measured when it runs")
                out.append(d.render_statement(self.target.insert_sql(row)))
                if not work.single_transaction:
                    out.append(d.render_statement("COMMIT"))
            else:
                out += [
                    "",
                    f"-- {unit.label} (runs outside a transaction, statement by statement)",
                    "-- recorded as started first, so that a failure stays visible",
                    d.render_statement(self.target.insert_sql(row)),
                    *body,
                    "-- execution_time (0 here) is measured when it runs",
                    d.render_statement(self.target.finish_sql(row)),
                ]
        out += _section(f"{work.phase.after} callback", work.after, d.render_statement)
        if work.single_transaction:
            out.append(d.render_statement("COMMIT"))
        return "\n".join(out) + "\n"


def _section(title: str, steps: Sequence[Step], render: Callable[[str], str]) -> list[str]:
    return ["", f"-- {title}", *(render(s.sql) for s in steps)] if steps else []


def _elapsed(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _check_single_transaction(engine: str, transactional_ddl: bool, work: Work) -> None:
    if not transactional_ddl:
        raise DbfleetError(
            f"--single-transaction is not possible on {engine}: its DDL commits implicitly",
            hint="run without --single-transaction",
        )
    blocking = [u.label for u in work.units if not u.transactional]
    if blocking:
        raise DbfleetError(
            "--single-transaction is not possible: "
            + ", ".join(blocking)
            + " must run outside a transaction",
            hint="run without --single-transaction",
        )
