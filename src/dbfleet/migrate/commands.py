"""The migration commands as library calls: status, validate, migrate, undo, baseline, repair."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbfleet.config import Environment, Project
from dbfleet.engines.base import NewHistoryRow
from dbfleet.errors import DbfleetError, ValidationError
from dbfleet.migrate.files import Kind, MigrationSet, Version, discover
from dbfleet.migrate.runner import MIGRATE, UNDO, Observer, Runner
from dbfleet.migrate.state import BASELINE, DELETE, State, TargetState
from dbfleet.migrate.target import Target, open_target

# States in which a versioned migration's changes are in the database.
_IN_DATABASE = (State.APPLIED, State.CHANGED, State.RENAMED)


@dataclass
class RunResult:
    """What a command did (or, with dry_run, would do)."""

    applied: list[tuple[str, int]] = field(default_factory=list)
    sql: str | None = None
    messages: list[str] = field(default_factory=list)
    # (script, checksum) of each migration the run applies (or would apply), in order.
    units: list[tuple[str, str]] = field(default_factory=list)
    # The statements of those migrations (callbacks included, placeholders filled), without
    # the history writes: what a plan's hash covers.
    statements: list[str] = field(default_factory=list)


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


def _runner(
    project: Project,
    env: Environment,
    target: Target,
    files: MigrationSet,
    placeholders: dict[str, str] | None,
    observer: Observer | None,
) -> Runner:
    return Runner(
        target,
        files,
        {**env.placeholders, **(placeholders or {})},
        observer,
        environment=env.name,
        placeholder_replacement=project.placeholder_replacement,
    )


def _check(project: Project, state: TargetState, out_of_order: bool) -> None:
    problems = state.problems(
        out_of_order=out_of_order, failures_only=not project.validate_on_migrate
    )
    if problems:
        raise ValidationError("validation failed, nothing was run: " + "; ".join(problems))


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
    expected: list[tuple[str, str]] | None = None,
) -> RunResult:
    """Apply pending migrations in order (or, with dry_run, return the SQL that would run).

    `expected`: the (script, checksum) list a plan promised; checked under the lock, so that
    exactly that runs or nothing does."""
    files = load_files(project)
    allow = project.out_of_order if out_of_order is None else out_of_order
    with open_target(project, env, create=not dry_run) as target:
        if dry_run:  # reads only: no lock, nothing written
            setup = target.history_setup_sql()
            state = target.state(files)
            _check(project, state, allow)
            runner = _runner(project, env, target, files, placeholders, observer)
            work = runner.prepare(
                state.pending(target=target_version, out_of_order=allow),
                MIGRATE,
                single_transaction=single_transaction,
            )
            return RunResult(
                applied=[(u.label, 0) for u in work.units],
                sql=runner.render(work, setup=setup),
                units=[(u.file.script, u.file.checksum) for u in work.units],
                statements=[s.sql for u in work.units for s in (*u.before, *u.steps, *u.after)],
            )
        with target.locked():
            target.ensure_history()
            state = target.state(files)
            _check(project, state, allow)
            runner = _runner(project, env, target, files, placeholders, observer)
            work = runner.prepare(
                state.pending(target=target_version, out_of_order=allow),
                MIGRATE,
                single_transaction=single_transaction,
            )
            units = [(u.file.script, u.file.checksum) for u in work.units]
            if expected is not None and units != expected:
                raise DbfleetError(
                    f"{env.name} changed since the plan: it would now run "
                    f"{', '.join(s for s, _ in units) or 'nothing'} instead of "
                    f"{', '.join(s for s, _ in expected) or 'nothing'}",
                    hint="make a new plan",
                )
            return RunResult(applied=runner.run(work), units=units)


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
    with open_target(project, env, create=False) as target, target.locked():
        state = target.state(files)
        _check(project, state, project.out_of_order)
        applied = sorted(
            (e for e in state.entries if e.kind is Kind.VERSIONED and e.state in _IN_DATABASE),
            key=lambda e: e.version or Version((0,)),
            reverse=True,
        )
        chosen = applied[:1] if to is None else [e for e in applied if e.version and e.version > to]
        if not chosen:
            return RunResult(messages=["nothing to undo"])
        lacking = [e.script for e in chosen if e.version not in files.undo]
        if lacking:
            raise DbfleetError(
                "cannot undo: no undo script for " + ", ".join(lacking),
                hint="write U<version>__<description>.sql for each; nothing was undone",
            )
        runner = _runner(project, env, target, files, placeholders, observer)
        work = runner.prepare(chosen, UNDO)
        if dry_run:
            return RunResult(applied=[(u.label, 0) for u in work.units], sql=runner.render(work))
        return RunResult(applied=runner.run(work))


def baseline(project: Project, env: Environment, version: Version, description: str) -> RunResult:
    """Adopt an existing database: record `version` as its starting point."""
    with open_target(project, env) as target, target.locked():
        target.ensure_history()
        rows = target.history()
        if rows:
            raise DbfleetError(
                f"{env.url.display} already has a history ({len(rows)} rows in {target.table})",
                hint="baseline only adopts a database that dbfleet has not migrated yet",
            )
        row = NewHistoryRow(
            version=str(version),
            description=description,
            type=BASELINE,
            script=description,
            checksum=None,
            installed_by=target.conn.current_user(),
            execution_time=0,
            success=True,
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
        statements: list[str] = []
        if any(e.state is State.FAILED for e in state.entries):
            statements.append(dialect.delete_failed_history(target.table, target.schema))
        for e in state.entries:
            name = e.script or e.description
            if e.state is State.FAILED:
                assert e.row is not None
                changes.append(f"removed the failed entry of {e.row.script}")
            elif e.state in (State.CHANGED, State.RENAMED):
                assert e.row is not None and e.file is not None
                statements.append(
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
                statements.append(
                    target.insert_sql(
                        NewHistoryRow(
                            version=e.row.version,
                            description=e.row.description,
                            type=DELETE,
                            script=e.row.script,
                            checksum=e.row.checksum,
                            installed_by=conn.current_user(),
                            execution_time=0,
                            success=True,
                        )
                    )
                )
                changes.append(f"marked {name} as deleted (its file is gone)")
        with conn.transaction(enabled=dialect.transactional_ddl):
            for statement in statements:
                conn.execute(statement)
    return RunResult(messages=changes or ["nothing to repair"])
