"""Migration commands: status (info), migrate, validate, baseline, repair, undo."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import console, emit_json, emit_text, info
from dbfleet.errors import ConfigError, DbfleetError

if TYPE_CHECKING:
    from dbfleet.config import Environment, Project
    from dbfleet.migrate.commands import RunResult
    from dbfleet.migrate.files import Version
    from dbfleet.migrate.state import TargetState

EnvOption = Annotated[
    str | None,
    typer.Option("--env", "-e", help="Environment from dbfleet.toml (default: its default)."),
]
UrlOption = Annotated[
    str | None, typer.Option("--url", help="Database URL, overriding the environment's.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
PlaceholderOption = Annotated[
    list[str] | None,
    typer.Option("--placeholder", "-p", help="NAME=VALUE for ${NAME} in scripts (repeatable)."),
]

_STATE_STYLE = {
    "applied": "green",
    "baseline": "green",
    "pending": "yellow",
    "outdated": "yellow",
    "undone": "yellow",
    "failed": "bold red",
    "missing": "red",
    "changed": "red",
    "renamed": "red",
    "out of order": "red",
    "below baseline": "dim",
    "deleted": "dim",
}


def _load(ctx: typer.Context, env: str | None, url: str | None) -> tuple[Project, Environment]:
    from dbfleet.config import load_project

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    if project.config_file is None and url is None and not _env_url():
        raise ConfigError(
            "no dbfleet.toml found here or in any parent folder",
            hint="run `dbfleet init`, pass --project DIR, or pass --url",
        )
    return project, project.environment(env, url=url)


def _env_url() -> bool:
    import os

    return bool(os.environ.get("DBFLEET_URL"))


def _version(text: str | None, option: str) -> Version | None:
    from dbfleet.migrate.files import Version

    if text is None:
        return None
    try:
        return Version.parse(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None


def _placeholders(pairs: list[str] | None) -> dict[str, str]:
    values = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--placeholder '{pair}': expected NAME=VALUE")
        values[name] = value
    return values


# --- status ---------------------------------------------------------------------------------


def _status_json(env: Environment, state: TargetState) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for e in state.entries:
        counts[e.state.value] = counts.get(e.state.value, 0) + 1
    return {
        "environment": env.name,
        "url": env.url.display,
        "history_table": env.history_table,
        "current_version": str(state.head) if state.head else None,
        "migrations": [
            {
                "category": "baseline" if e.kind is None else e.kind.name.lower(),
                "version": str(e.version) if e.version is not None else None,
                "description": e.description,
                "script": e.script,
                "state": e.state.value,
                "installed_on": _iso(e.row.installed_on) if e.row else None,
                "installed_by": e.row.installed_by if e.row else None,
                "execution_time_ms": e.row.execution_time if e.row else None,
                "checksum": e.file.checksum if e.file else (e.row.checksum if e.row else None),
            }
            for e in state.entries
        ],
        "summary": counts,
    }


def _iso(value: object) -> str | None:
    """When a history row was written, as ISO 8601 like every other time dbfleet prints: UTC
    with "Z" where the engine records the zone (PostgreSQL's timestamptz; SQLite writes UTC),
    else the server's local time as it stored it (MariaDB's TIMESTAMP)."""
    from datetime import UTC, datetime

    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="milliseconds")
        utc = value.astimezone(UTC).replace(tzinfo=None)
        return utc.isoformat(timespec="milliseconds") + "Z"
    text = str(value).strip().replace(" ", "T", 1)  # SQLite: "2026-11-22 08:06:14.967", UTC
    return text if text.endswith("Z") else text + "Z"


@app.command()
def status(
    ctx: typer.Context, env: EnvOption = None, url: UrlOption = None, json: JsonOption = False
) -> None:
    """Show every migration: applied, pending, failed, missing or edited since applied."""
    from dbfleet.migrate.commands import status as read_status

    project, environment = _load(ctx, env, url)
    state = read_status(project, environment)
    if json:
        emit_json(_status_json(environment, state))
        return
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"{environment.name}: {environment.url.display}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for column in ("Version", "Description", "Script", "Installed on", "State"):
        table.add_column(column, no_wrap=column != "Description")
    for e in state.entries:
        when = str(e.row.installed_on)[:19] if e.row and e.row.installed_on else ""
        style = _STATE_STYLE.get(e.state.value, "")
        version = "baseline " + str(e.version) if e.kind is None else str(e.version or "R")
        table.add_row(version, e.description, e.script, when, f"[{style}]{e.state.value}[/]")
    out = console()
    if state.entries:
        out.print(table)
    pending = sum(1 for e in state.entries if e.needs_run)
    out.print(
        f"current version: {state.head or 'none'}; {pending} pending"
        + ("" if state.history_exists else f"; no history table ({environment.history_table}) yet")
    )


app.command("info", help="Alias of status.")(status)


# --- migrate ----------------------------------------------------------------------------------


class _Progress:
    """A Rich progress bar on a terminal, plain lines otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.task: Any = None
        self.verb = "applied"

    def begin(self, total: int, verb: str) -> None:
        self.verb = verb
        if self.quiet or not self.tty or total == 0:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console(stderr=True),
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("migrating", total=total)

    def started(self, label: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=label)

    def finished(self, label: str, milliseconds: int) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.console.print(f"  [green]✓[/] {label} ({milliseconds} ms)")
            self.bar.advance(self.task)
        else:
            sys.stderr.write(f"  {self.verb} {label} ({milliseconds} ms)\n")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _report(result: RunResult, json: bool, environment: Environment, verb: str) -> None:
    if json:
        emit_json(
            {
                "environment": environment.name,
                "url": environment.url.display,
                verb: [{"script": s, "execution_time_ms": ms} for s, ms in result.applied],
                "messages": result.messages,
                "sql": result.sql,
            }
        )
        return
    if result.sql is not None:
        emit_text(result.sql)
        return
    for message in result.messages:
        info(message)


@app.command()
def migrate(
    ctx: typer.Context,
    env: EnvOption = None,
    url: UrlOption = None,
    target: Annotated[str | None, typer.Option(help="Apply up to this version only.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the SQL that would run; change nothing.")
    ] = False,
    single_transaction: Annotated[
        bool,
        typer.Option("--single-transaction", help="All pending migrations in one transaction."),
    ] = False,
    out_of_order: Annotated[
        bool | None,
        typer.Option(
            "--out-of-order/--in-order", help="Apply pending versions older than the latest."
        ),
    ] = None,
    placeholder: PlaceholderOption = None,
    json: JsonOption = False,
) -> None:
    """Apply pending migrations in version order, then changed repeatable ones."""
    import time

    from dbfleet.migrate.commands import migrate as run_migrate

    project, environment = _load(ctx, env, url)
    if environment.requires_approval and not dry_run:
        raise DbfleetError(
            f"{environment.name} runs approved plans only (requires_approval = true)",
            hint=f"dbfleet plan --env {environment.name} -o plan.json, have it approved "
            "(dbfleet approve), then dbfleet apply --plan plan.json",
        )
    progress = _Progress(quiet=json or dry_run)
    started = time.perf_counter()
    try:
        result = run_migrate(
            project,
            environment,
            target_version=_version(target, "--target"),
            dry_run=dry_run,
            single_transaction=single_transaction,
            out_of_order=out_of_order,
            placeholders=_placeholders(placeholder),
            observer=progress,
        )
    except DbfleetError as exc:
        if not dry_run:
            _record(project, environment, "migrate", started, 0, error=str(exc))
        raise
    finally:
        progress.close()
    if not dry_run:
        _record(
            project, environment, "migrate", started, len(result.applied), migrations=result.units
        )
    if not dry_run and not json:
        elapsed = round((time.perf_counter() - started) * 1000)
        result.messages.append(
            f"applied {len(result.applied)} migration(s) to {environment.name} in {elapsed} ms"
            if result.applied
            else f"{environment.name} is up to date; nothing to migrate"
        )
    _report(result, json, environment, "applied")


def _record(
    project: Project,
    environment: Environment,
    command: str,
    started: float,
    applied: int,
    *,
    error: str | None = None,
    migrations: list[tuple[str, str]] | None = None,
    note: str | None = None,
) -> None:
    """Record a run that changed something (or failed) in the state store (`dbfleet history`).

    A no-op run records nothing, so that it stays fast; a store that cannot be written is a
    warning, never a failure of a migration that already happened."""
    import time

    if not applied and error is None:
        return
    from dbfleet.state.store import open_store

    try:
        with open_store(project) as store:
            run_id = store.start_run(
                command, environment=environment.name, target=environment.url.display, note=note
            )
            store.finish_run(
                run_id,
                "failed" if error else "ok",
                duration_ms=round((time.perf_counter() - started) * 1000),
                error=error,
                migrations=migrations or (),
            )
    except DbfleetError as exc:
        info(f"warning: the run was not recorded in the state store: {exc}")


# --- validate, baseline, repair, undo -----------------------------------------------------------


@app.command()
def validate(
    ctx: typer.Context,
    env: EnvOption = None,
    url: UrlOption = None,
    out_of_order: Annotated[
        bool | None, typer.Option("--out-of-order/--in-order", help="Accept out-of-order pending.")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Compare applied migrations with the files (checksums, missing, order); change nothing."""
    from dbfleet.migrate.commands import validate as run_validate

    project, environment = _load(ctx, env, url)
    problems = run_validate(project, environment, out_of_order=out_of_order)
    if json:
        emit_json({"environment": environment.name, "valid": not problems, "problems": problems})
    elif problems:
        from dbfleet.cli.output import error

        for problem in problems:
            error(problem)
    else:
        info(f"{environment.name}: valid (history matches the migration files)")
    if problems:
        raise typer.Exit(1)


@app.command()
def baseline(
    ctx: typer.Context,
    version: Annotated[str, typer.Option("--version", help="The version the database is at.")],
    description: Annotated[
        str, typer.Option(help="Recorded with the baseline.")
    ] = "<< baseline >>",
    env: EnvOption = None,
    url: UrlOption = None,
    json: JsonOption = False,
) -> None:
    """Adopt an existing database: record VERSION as applied; older migrations never run."""
    from dbfleet.migrate.commands import baseline as run_baseline

    project, environment = _load(ctx, env, url)
    parsed = _version(version, "--version")
    assert parsed is not None
    _report(run_baseline(project, environment, parsed, description), json, environment, "baselined")


@app.command()
def repair(
    ctx: typer.Context, env: EnvOption = None, url: UrlOption = None, json: JsonOption = False
) -> None:
    """After a human fixed things: drop failed entries, accept edited files, mark missing ones."""
    from dbfleet.migrate.commands import repair as run_repair

    project, environment = _load(ctx, env, url)
    _report(run_repair(project, environment), json, environment, "repaired")


@app.command()
def undo(
    ctx: typer.Context,
    to: Annotated[
        str | None, typer.Option("--to", help="Undo every migration above this version (0: all).")
    ] = None,
    env: EnvOption = None,
    url: UrlOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the SQL; change nothing.")
    ] = False,
    placeholder: PlaceholderOption = None,
    json: JsonOption = False,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why (recorded; required where plans need approval)."),
    ] = None,
) -> None:
    """Run U scripts in reverse order: the latest migration, or all above --to."""
    import time

    from dbfleet.migrate.commands import undo as run_undo

    project, environment = _load(ctx, env, url)
    if not dry_run:
        from dbfleet.plan.approvals import require_reason

        require_reason(environment, reason)
    progress = _Progress(quiet=json or dry_run)
    started = time.perf_counter()
    try:
        result = run_undo(
            project,
            environment,
            to=_version(to, "--to"),
            dry_run=dry_run,
            placeholders=_placeholders(placeholder),
            observer=progress,
        )
    except DbfleetError as exc:
        if not dry_run:
            _record(project, environment, "undo", started, 0, error=str(exc), note=reason)
        raise
    finally:
        progress.close()
    if not dry_run:
        _record(project, environment, "undo", started, len(result.applied), note=reason)
    if not dry_run and not json and result.applied:
        result.messages.append(f"undid {len(result.applied)} migration(s) on {environment.name}")
    _report(result, json, environment, "undone")
