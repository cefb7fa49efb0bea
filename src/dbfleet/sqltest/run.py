"""`dbfleet test` as a library call: scratch database, migrate, seed, run the tests, drop it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from dbfleet.config import Environment, Project
from dbfleet.dburl import DatabaseUrl
from dbfleet.engines.base import Connection, Dialect, Statement, StatementError
from dbfleet.errors import DbfleetError, MigrationFailed, SplitError
from dbfleet.migrate.files import Version
from dbfleet.migrate.placeholders import fill
from dbfleet.sqltest import builtin, pgtap
from dbfleet.sqltest.discover import SqlFile, TestFolder, discover, relative
from dbfleet.sqltest.outcome import Outcome

DEFAULT_FOLDER = "tests"


@dataclass(frozen=True)
class TestOptions:
    folder: str = DEFAULT_FOLDER  # project-relative
    to: Version | None = None
    undo_check: bool = False
    require_undo: bool = False


@dataclass
class TestRun:
    """Everything a run found, in the order it ran, and one-line notes for people."""

    engine: str
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_tests(
    project: Project,
    env_name: str | None,
    options: TestOptions,
    note: Callable[[str], None] = lambda _: None,
) -> TestRun:
    """Migrate a scratch database, load the seeds, run the tests (and the undo check)."""
    from dbfleet.engines import dialect_for
    from dbfleet.migrate.commands import load_files

    env = _environment(project, env_name)
    engine = env.url.engine if env else project.engine_name()
    dialect = dialect_for(engine)
    folder = project.root / options.folder
    found = _with_placeholders(project, env, discover(project.root, folder))
    run = TestRun(engine)

    def say(line: str) -> None:  # notes go to the caller and into the report
        run.notes.append(line)
        note(line)

    for name in found.ignored:
        say(f"{name}: no '-- test: NAME' block and no pgTAP plan(): not a test file, skipped")
    scripts = [builtin.parse(f, dialect) for f in found.tests if f.kind == "sql"]
    pgtap_files = [f for f in found.tests if f.kind == "pgtap"]
    for seed in found.seeds:  # bad seed SQL is reported before any database is created
        _split(dialect, seed)
    migrations = load_files(project)
    if options.to is not None and migrations.versioned_by(options.to) is None:
        known = ", ".join(str(m.version) for m in migrations.versioned) or "none"
        raise DbfleetError(
            f"--to {options.to}: no migration has that version", hint=f"versions: {known}"
        )
    if not found.tests and not options.undo_check:
        raise DbfleetError(
            f"no SQL tests in {relative(project.root, folder)}/",
            hint="write tests/*.sql with '-- test: NAME' blocks (see `dbfleet test --help`), "
            "or pass --undo-check",
        )
    if found.tests:
        _run_suite(project, env, options, found, scripts, pgtap_files, run, say)
    if options.undo_check and not any(o.kind == "migrate" for o in run.outcomes):
        from dbfleet.schema.scratch import scratch_database
        from dbfleet.sqltest.undo import check_undo

        say("undo check: migrating, undoing and migrating again, one version at a time")
        with scratch_database(project, engine) as url:
            run.outcomes += check_undo(
                project,
                _scratch(project, env, url),
                migrations,
                to=options.to,
                require_undo=options.require_undo,
                relative=lambda p: relative(project.root, Path(p)),
            )
    return run


def _run_suite(
    project: Project,
    env: Environment | None,
    options: TestOptions,
    found: TestFolder,
    scripts: list[builtin.TestScript],
    pgtap_files: list[SqlFile],
    run: TestRun,
    note: Callable[[str], None],
) -> None:
    from dbfleet.engines import connect
    from dbfleet.migrate.commands import migrate
    from dbfleet.schema.scratch import scratch_database

    with scratch_database(project, run.engine) as url:
        scratch = _scratch(project, env, url)
        started = time.perf_counter()
        try:
            result = migrate(project, scratch, target_version=options.to)
        except MigrationFailed as exc:
            # A finding, not bad input: reported as a test that errored (so JUnit shows it).
            run.outcomes.append(_migrations_failed(str(exc)))
            note("the migrations failed on the scratch database: no test was run")
            return
        note(
            f"migrated a scratch {_engine_name(url)} database"
            + (f" to {options.to}" if options.to else "")
            + f": {len(result.applied)} migration(s) in {_ms(started)} ms"
        )
        with connect(url) as conn:
            for seed in found.seeds:
                _load_seed(conn, seed)
            if found.seeds:
                note(f"loaded {len(found.seeds)} seed file(s)")
            for script in scripts:
                run.outcomes += builtin.run(conn, script)
            if pgtap_files:
                run.outcomes += _run_pgtap(conn, pgtap_files, note)


def _migrations_failed(message: str) -> Outcome:
    return Outcome(
        name="the migrations apply to an empty database",
        file="migrations",
        line=0,
        kind="migrate",
        status="error",
        message=message,
    )


def _run_pgtap(
    conn: Connection, files: list[SqlFile], note: Callable[[str], None]
) -> list[Outcome]:
    problem = None
    if conn.dialect.name != pgtap.ENGINE:
        problem = (
            "skipped",
            f"pgTAP runs on PostgreSQL only; this project uses {conn.dialect.display_name}",
        )
    elif not pgtap.available(conn):
        problem = (
            "error",
            "the PostgreSQL server"
            + (f" at {conn.url.host}" if conn.url.host else "")
            + " has no pgTAP extension",
        )
    if problem is None:
        pgtap.install(conn)
        return [o for f in files for o in pgtap.run(conn, f)]
    status, reason = problem
    hint = "" if status == "skipped" else " (Debian/Ubuntu: apt-get install postgresql-15-pgtap)"
    note(f"{reason}: {len(files)} pgTAP file(s) not run{hint}")
    return [
        Outcome(
            name=f"{f.name} (pgTAP)",
            file=f.name,
            line=0,
            kind="pgtap",
            status="skipped" if status == "skipped" else "error",
            message=reason,
        )
        for f in files
    ]


def _load_seed(conn: Connection, seed: SqlFile) -> None:
    statements = _split(conn.dialect, seed)
    with conn.transaction(enabled=conn.dialect.transactional_ddl):
        for statement in statements:
            try:
                conn.execute(statement.text)
            except StatementError as exc:
                line = conn.dialect.error_line(statement, exc.position)
                raise DbfleetError(
                    f"{seed.name}:{line}: seed statement failed: {exc.message}",
                    hint="no test was run; fix the seed file",
                ) from None


def _with_placeholders(project: Project, env: Environment | None, found: TestFolder) -> TestFolder:
    """Tests and seeds see the ${name} placeholders the migrations see (same values, same
    rules: an unknown one is an error naming file and line)."""
    if not project.placeholder_replacement:
        return found
    values = env.placeholders if env else project.placeholders

    def filled(file: SqlFile) -> SqlFile:
        return replace(file, text=fill(file.text, values, file.name))

    return replace(
        found,
        seeds=tuple(filled(f) for f in found.seeds),
        tests=tuple(filled(f) for f in found.tests),
    )


def _split(dialect: Dialect, file: SqlFile) -> list[Statement]:
    try:
        return dialect.split(file.text)
    except SplitError as exc:
        raise DbfleetError(f"{file.name}:{exc.line}: {exc.message}") from None


def _environment(project: Project, name: str | None) -> Environment | None:
    """The environment whose engine and placeholders the scratch database takes (if any)."""
    chosen = name or os.environ.get("DBFLEET_ENV") or os.environ.get("DBFLEET_URL")
    if not chosen and project.default_environment is None:
        return None  # the engine comes from [project] engine
    return project.environment(name)


def _scratch(project: Project, env: Environment | None, url: DatabaseUrl) -> Environment:
    return Environment(
        name=env.name if env else "test",
        url=url,
        placeholders=env.placeholders if env else dict(project.placeholders),
        history_schema=None,
        history_table=env.history_table if env else project.history_table,
    )


def _engine_name(url: DatabaseUrl) -> str:
    from dbfleet.engines import dialect_for

    return dialect_for(url.engine).display_name


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
