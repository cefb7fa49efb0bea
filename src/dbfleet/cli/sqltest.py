"""`dbfleet test`: the project's SQL tests and the undo check, in a throwaway database."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_json, emit_text, info
from dbfleet.errors import ConfigError

if TYPE_CHECKING:
    from dbfleet.sqltest.outcome import Outcome

# Rich wraps paragraphs and keeps the indented examples as they are.
HELP = "\n\n".join(
    [
        ("Run the project's SQL tests in a scratch database, dropped afterwards."),
        (
            "The scratch database (SQLite: a temporary file; PostgreSQL/MariaDB: a new database "
            "on \\[project] scratch_url, else an embedded PostgreSQL) is migrated to head (or "
            "--to) as `dbfleet migrate` does, seeded with tests/seed/*.sql (by name), and the "
            "tests in tests/ run against it."
        ),
        ("Built-in tests (every engine) are .sql files in tests/:"),
        "  -- test: a new tenant is in the EU region\n"
        + "  INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme');\n"
        + "  -- expect: eu\n"
        + "  SELECT region FROM tenants WHERE slug = 'acme';",
        (
            "A test passes when its statements run without error and each expectation on the "
            "statement after it holds:"
        ),
        "  -- expect: VALUE | VALUE ...   exactly this row (one line per row)\n"
        + "  -- expect rows: N              exactly N rows\n"
        + "  -- expect error: TEXT          fails, the message containing TEXT",
        (
            "VALUE is NULL, a number (49 = 49.00), true/false (also 1/0), 'quoted text' (exact) "
            "or bare text. Statements before the first `-- test:` run at the start of every test "
            "of the file. Each test runs in a transaction rolled back afterwards (MariaDB commits"
            " DDL implicitly). ${name} placeholders are filled in as in migrations."
        ),
        (
            "pgTAP tests (PostgreSQL with the pgtap extension): *.pg files, or .sql files that "
            "call plan(), no_plan() or runtests(); each assertion is a test case."
        ),
        (
            "--undo-check migrates one version at a time, undoes them one at a time and migrates "
            "again, comparing schemas: a U script that is not the inverse of its V script is "
            "shown with a diff."
        ),
        ("Exit status: 0 when everything passed, 1 on any failure or error."),
    ]
)


@app.command("test", help=HELP)
def test_command(
    ctx: typer.Context,
    env: Annotated[
        str | None,
        typer.Option("--env", "-e", help="Take the engine and placeholders from this environment."),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Migrate the scratch database up to this version.")
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write a JUnit XML report to this file.")
    ] = None,
    undo_check: Annotated[
        bool, typer.Option("--undo-check", help="Check that each U script undoes its V script.")
    ] = False,
    require_undo: Annotated[
        bool,
        typer.Option(
            "--require-undo", help="With --undo-check: a version without a U script fails."
        ),
    ] = False,
    tests: Annotated[
        str, typer.Option("--tests", help="The tests folder, relative to the project.")
    ] = "tests",
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    from dbfleet.config import load_project
    from dbfleet.migrate.files import Version
    from dbfleet.sqltest.outcome import Summary, to_json, to_junit
    from dbfleet.sqltest.run import TestOptions, run_tests

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    try:
        version = Version.parse(to) if to is not None else None
    except ValueError as exc:
        raise ConfigError(f"--to: {exc}") from None
    options = TestOptions(
        folder=tests, to=version, undo_check=undo_check, require_undo=require_undo
    )
    if junit is not None:  # a report that cannot be written is found before the tests run
        try:
            junit.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--junit {junit}: cannot write it: {exc.strerror}") from None
    started = time.perf_counter()
    with _sigterm_interrupts():
        result = run_tests(project, env, options, note=info)
    seconds = time.perf_counter() - started
    summary = Summary.of(result.outcomes)
    if junit is not None:
        try:
            junit.write_text(to_junit(result.outcomes), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--junit {junit}: cannot write it: {exc.strerror}") from None
    if json:
        emit_json(to_json(result.outcomes, engine=result.engine, notes=result.notes))
    else:
        emit_text(_text(result.outcomes, f"{summary} in {seconds:.2f} s"))
    if junit is not None:
        info(f"wrote {junit}")
    if not summary.ok:
        raise typer.Exit(1)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """CI systems cancel a job with SIGTERM: unwind as for Ctrl-C, so the scratch database is
    dropped then too."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_MARK = {"passed": "ok  ", "failed": "FAIL", "error": "ERR ", "skipped": "skip"}


def _text(outcomes: list[Outcome], summary: str) -> str:
    """One line per test, grouped by file; then each failure with expected vs actual."""
    lines: list[str] = []
    group = None
    for o in outcomes:
        heading = "undo check" if o.kind == "undo" else o.file
        if heading != group:
            lines.append(heading)
            group = heading
        extra = f"  ({o.message})" if o.status == "skipped" and o.message else ""
        lines.append(f"  {_MARK[o.status]}  {o.name}{extra}")
    problems = [o for o in outcomes if o.status in ("failed", "error")]
    if problems:
        lines += ["", "failures:"]
        for o in problems:
            heading = "undo check" if o.kind == "undo" else o.where
            lines.append(f"{_MARK[o.status].strip()} {heading}: {o.name}")
            if o.message:
                lines.append("    " + " ".join(o.message.split()))
            lines += ["    " + line for line in o.details.splitlines()]
    lines += ["", summary]
    return "\n".join(lines)
