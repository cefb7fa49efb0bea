"""Fleet commands: roll migrations out to a template and its tenants, and look after them."""

from __future__ import annotations

import json as jsonlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import console, emit_json, emit_text, error, info, markdown_cell
from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.secrets import redact

if TYPE_CHECKING:
    from dbfleet.config import Environment, Project
    from dbfleet.fleet.rollout import Report
    from dbfleet.fleet.settings import FleetSettings
    from dbfleet.state.store import StateStore

fleet_app = typer.Typer(
    name="fleet",
    help="Roll migrations out to a template database and its tenants, in waves.",
    no_args_is_help=True,
)
app.add_typer(fleet_app, name="fleet")

EnvOption = Annotated[
    str | None, typer.Option("--env", "-e", help="Environment with a fleet table.")
]
TenantOption = Annotated[
    list[str] | None, typer.Option("--tenant", help="Only this tenant (repeatable).")
]
GroupOption = Annotated[str | None, typer.Option("--group", help="Only tenants of this group.")]
WaveOption = Annotated[int | None, typer.Option("--wave", help="Only wave N (from 1).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
LogFormat = Annotated[
    str, typer.Option("--log-format", help="text, or json: one JSON object per event on stdout.")
]


def _load(ctx: typer.Context, env: str | None) -> tuple[Project, Environment, FleetSettings]:
    from dbfleet.config import load_project
    from dbfleet.fleet.settings import fleet_settings

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    if project.config_file is None:
        raise ConfigError(
            "no dbfleet.toml found here or in any parent folder",
            hint="fleets are configured in [environments.NAME.fleet] of dbfleet.toml",
        )
    environment = project.environment(env)
    return project, environment, fleet_settings(project, environment)


def _version(text: str | None, option: str) -> Any:
    from dbfleet.migrate.files import Version

    if text is None:
        return None
    try:
        return Version.parse(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None


# --- progress -----------------------------------------------------------------------------------


class Display:
    """Rollout events for people (a live table on a terminal, lines otherwise) or as JSON."""

    def __init__(self, log_format: str) -> None:
        if log_format not in ("text", "json"):
            raise ConfigError(f"--log-format {log_format}: use text or json")
        self.json = log_format == "json"
        self.live: Any = None
        self.waves: dict[int, dict[str, Any]] = {}
        self.started = time.monotonic()
        self.finished = 0
        self.total = 0

    def __call__(self, event: str, **fields: Any) -> None:
        if self.json:
            record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event}
            sys.stdout.write(redact(jsonlib.dumps(record | fields, default=str)) + "\n")
            sys.stdout.flush()
            return
        handler = getattr(self, "_" + event, None)
        if handler is not None:
            handler(**fields)

    # text rendering

    def _line(self, text: str) -> None:
        if self.live is not None:
            self.live.console.print(text, markup=False, highlight=False)
        else:
            info(text)

    def _rollout_started(self, **f: Any) -> None:
        self.total = f["tenants"]
        plan = ", ".join(f"{w['name']}: {w['tenants']}" for w in f["waves"]) or "none"
        target = f" to {f['target_version']}" if f.get("target_version") else ""
        self._line(
            f"{f['action']} {f['environment']}{target}: template, then {self.total} tenant(s) "
            f"in waves ({plan})"
        )
        if f.get("skipped"):
            self._line(f"skipped (enabled = false): {', '.join(f['skipped'])}")
        for w in f["waves"]:
            self.waves[w["wave"]] = {
                "name": w["name"],
                "pending": w["tenants"],
                "running": 0,
                "done": 0,
                "failed": 0,
            }
        self._start_live()

    def _rollout_resumed(self, **f: Any) -> None:
        self.total = f["tenants"]
        what = "retrying the failed tenants of" if f["failed_only"] else "resuming"
        self._line(
            f"{what} rollout {f['rollout'][:8]} ({f['action']} {f['environment']}): "
            f"{self.total} tenant(s)"
        )

    def _nothing_to_resume(self, rollout: str, status: str, failed_only: bool) -> None:
        what = "no failed tenant" if failed_only else "no unfinished tenant"
        self._line(f"rollout {rollout[:8]} ({status}) has {what}: nothing to do")

    def _start_live(self) -> None:
        if not sys.stderr.isatty() or self.live is not None:
            return
        from rich.live import Live

        self.live = Live(
            self._table(), console=console(stderr=True), refresh_per_second=8, transient=False
        )
        self.live.start()

    def _table(self) -> Any:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, title_justify="left")
        for column in ("Wave", "Done", "Failed", "Running", "Pending"):
            table.add_column(column, justify="right" if column != "Wave" else "left")
        for number, w in sorted(self.waves.items()):
            table.add_row(
                f"{number} {w['name']}",
                str(w["done"]),
                f"[red]{w['failed']}[/]" if w["failed"] else "0",
                str(w["running"]),
                str(w["pending"]),
            )
        elapsed = time.monotonic() - self.started
        rate = self.finished / elapsed if elapsed else 0.0
        left = self.total - self.finished
        eta = f"{left / rate:.0f} s" if rate else "?"
        table.caption = f"{self.finished}/{self.total} tenants, {rate:.1f}/s, ETA {eta}"
        return table

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._table())

    def _wave_started(self, wave: int, name: str, tenants: int) -> None:
        self.waves.setdefault(
            wave, {"name": name, "pending": tenants, "running": 0, "done": 0, "failed": 0}
        )
        self._start_live()
        if self.live is None:
            self._line(f"wave {wave} ({name}): {tenants} tenant(s)")

    def _tenant_started(self, tenant: str, wave: int) -> None:
        w = self.waves.get(wave)
        if w is not None:
            w["pending"] -= 1
            w["running"] += 1
        self._refresh()

    def _count(self, wave: int, key: str) -> None:
        w = self.waves.get(wave)
        if w is not None:
            w["running"] -= 1
            w[key] += 1
        if wave:
            self.finished += 1
        self._refresh()

    def _tenant_finished(self, tenant: str, wave: int, **f: Any) -> None:
        self._count(wave, "done")
        moved = f"{f['version_before'] or 'none'} -> {f['version_after'] or 'none'}"
        if self.live is None or tenant == "(template)":
            self._line(
                f"  ok      {tenant}: {moved}, {f['applied']} applied ({f['duration_ms']} ms)"
            )

    def _tenant_failed(self, tenant: str, wave: int, **f: Any) -> None:
        self._count(wave, "failed")
        self._line(f"  FAILED  {tenant}: {f['error']}")

    def _wave_finished(
        self, wave: int, name: str, done: int, failed: int, not_started: int
    ) -> None:
        if self.live is None:
            extra = f", {not_started} not started" if not_started else ""
            elapsed = time.monotonic() - self.started
            rate = self.finished / elapsed if elapsed else 0.0
            left = self.total - self.finished
            pace = f"; {rate:.1f} tenants/s" + (
                f", ETA {left / rate:.0f} s" if rate and left else ""
            )
            self._line(f"wave {wave} ({name}) finished: {done} ok, {failed} failed{extra}{pace}")

    def _budget_exhausted(self, failures: int, budget: int, wave: int) -> None:
        self._line(
            f"error budget exhausted ({failures} failures > max_failures {budget}): "
            "no new tenant starts"
        )

    def close(self) -> None:
        if self.live is not None:
            self.live.update(self._table())
            self.live.stop()
            self.live = None


def _conclude(report: Report, display: Display) -> None:
    """The summary after a rollout; exit 1 when anything failed or did not start."""
    summary = report.summary
    if report.template is None and not summary.outcomes and not summary.not_started:
        return  # nothing ran (a resume with nothing left): the event said so
    if display.json:
        display(
            "summary",
            rollout=report.rollout_id,
            ok=report.ok,
            done=len(summary.done),
            failed=[{"tenant": o.tenant, "error": o.error} for o in summary.failed],
            not_started=summary.not_started,
        )
    else:
        if report.template_failed and report.template is not None:
            error(f"the template failed, no tenant was started: {report.template.error}")
        info(
            f"rollout {report.rollout_id[:8]}: {len(summary.done)} ok, {len(summary.failed)} failed"
            + (f", {len(summary.not_started)} not started" if summary.not_started else "")
        )
        for outcome in sorted(summary.failed, key=lambda o: o.tenant):
            info(f"  failed: {outcome.tenant}: {outcome.error}")
        if not report.ok:
            info(
                "next: fix the cause, then `dbfleet fleet retry --failed` "
                "(or `dbfleet fleet resume` for tenants not started)"
            )
    if not report.ok:
        raise typer.Exit(1)


# --- migrate, undo, resume, retry --------------------------------------------------------------


@fleet_app.command("migrate")
def migrate(
    ctx: typer.Context,
    env: EnvOption = None,
    target: Annotated[str | None, typer.Option(help="Migrate up to this version only.")] = None,
    tenant: TenantOption = None,
    group: GroupOption = None,
    wave: WaveOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show per tenant what would run.")
    ] = False,
    log_format: LogFormat = "text",
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="Roll out exactly this plan (of the template), approvals checked."
        ),
    ] = None,
) -> None:
    """Migrate the template, then every tenant in waves; failures stay isolated."""
    _rollout(
        ctx, env, "migrate", target, "--target", tenant, group, wave, dry_run, log_format, plan
    )


@fleet_app.command("undo")
def undo(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="Undo every migration above this version.")],
    env: EnvOption = None,
    tenant: TenantOption = None,
    group: GroupOption = None,
    wave: WaveOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show per tenant what would run.")
    ] = False,
    log_format: LogFormat = "text",
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why (recorded; required where plans need approval)."),
    ] = None,
) -> None:
    """Undo down to --to: the template first, then the tenants in reverse wave order."""
    _rollout(ctx, env, "undo", to, "--to", tenant, group, wave, dry_run, log_format, reason=reason)


def _rollout(
    ctx: typer.Context,
    env: str | None,
    action: str,
    version_text: str | None,
    option: str,
    tenant: list[str] | None,
    group: str | None,
    wave: int | None,
    dry_run: bool,
    log_format: str,
    plan_file: Path | None = None,
    reason: str | None = None,
) -> None:
    from dbfleet.fleet.rollout import Selection, start
    from dbfleet.state import open_store

    project, environment, settings = _load(ctx, env)
    version = _version(version_text, option)
    selection = Selection(tuple(tenant or ()), group, wave)
    if dry_run:
        _dry_run(project, environment, settings, action, version, selection, log_format == "json")
        return
    display = Display(log_format)
    with open_store(project) as store:
        if action == "migrate" and (plan_file is not None or environment.requires_approval):
            version = _approved_version(project, environment, plan_file, version_text, store)
        if action == "undo":
            from dbfleet.plan.approvals import require_reason

            require_reason(environment, reason)
        try:
            report = start(
                project,
                environment,
                settings,
                store,
                action=action,
                version=version,
                selection=selection,
                events=display,
                note=reason,
            )
        finally:
            display.close()
    _conclude(report, display)


def _approved_version(
    project: Project,
    environment: Environment,
    plan_file: Path | None,
    target: str | None,
    store: StateStore,
) -> Any:
    """The version an approved plan of the fleet's template brings everyone to; the plan must
    still match the template and the files, and pass the environment's release policy."""
    from dbfleet.migrate.files import discover
    from dbfleet.plan.approvals import judge
    from dbfleet.plan.plan import read_plan

    name = environment.name
    if plan_file is None:
        raise DbfleetError(
            f"{name} runs approved plans only (requires_approval = true)",
            hint=f"dbfleet plan --env {name} -o plan.json, have it approved (dbfleet approve), "
            f"then dbfleet fleet migrate --env {name} --plan plan.json",
        )
    if target is not None:
        raise DbfleetError(
            "--target and --plan: the plan says which migrations run", hint="drop --target"
        )
    planned = read_plan(project, plan_file)
    if planned.environment.name != name:
        raise DbfleetError(
            f"{plan_file} is a plan for {planned.environment.name}, not {name}",
            hint=f"dbfleet plan --env {name} -o plan.json",
        )
    store.record_plan(planned.hash, name, environment.url.display, planned.migrations)
    verdict = judge(project, environment, planned.hash, planned.migrations, store)
    verdict.raise_unless_ok()
    for warning in verdict.warnings:
        info(f"warning: {warning}")
    planned_scripts = {script for script, _ in planned.migrations}
    versions = [
        f.version
        for f in discover(project.locations).versioned
        if f.script in planned_scripts and f.version is not None
    ]
    # The template's pending work is the plan; tenants behind it catch up to the same version.
    return max(versions) if versions else None


def _dry_run(
    project: Project,
    env: Environment,
    settings: FleetSettings,
    action: str,
    version: Any,
    selection: Any,
    as_json: bool,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from dbfleet.fleet.registry import load_registry
    from dbfleet.fleet.rollout import plan_waves, template_tenant
    from dbfleet.fleet.tenant import pending_for
    from dbfleet.migrate.files import discover

    files = discover(project.locations)
    registry = load_registry(settings)
    waves = plan_waves(settings, registry, selection, action)
    order = [(0, "template", template_tenant(settings))] + [
        (w.number, w.name, t) for w in waves for t in w.tenants
    ]

    def one(item: tuple[int, str, Any]) -> dict[str, Any]:
        number, name, t = item
        try:
            current, scripts = pending_for(project, env, t, files, action=action, version=version)
            return {
                "tenant": t.id,
                "wave": number,
                "wave_name": name,
                "version": current,
                "would_run": scripts,
            }
        except Exception as exc:
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            return {"tenant": t.id, "wave": number, "wave_name": name, "error": redact(message)}

    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        rows = list(pool.map(one, order))
    if as_json:
        emit_json(
            {
                "environment": env.name,
                "action": action,
                "dry_run": True,
                "tenants": rows,
                "skipped": list(registry.skipped),
            }
        )
        return
    out = console()
    for row in rows:
        where = f"wave {row['wave']} ({row['wave_name']})" if row["wave"] else "first"
        if "error" in row:
            info(f"{row['tenant']} ({where}): cannot read it: {row['error']}")
        elif row["would_run"]:
            out.print(
                f"{row['tenant']} ({where}) at {row['version'] or 'none'}: "
                f"would run {', '.join(row['would_run'])}",
                markup=False,
            )
        else:
            out.print(
                f"{row['tenant']} ({where}) at {row['version'] or 'none'}: nothing to do",
                markup=False,
            )
    if registry.skipped:
        out.print(f"skipped (enabled = false): {', '.join(registry.skipped)}", markup=False)
    out.print("dry run: nothing was changed")


@fleet_app.command("resume")
def resume(ctx: typer.Context, env: EnvOption = None, log_format: LogFormat = "text") -> None:
    """Continue the last rollout (after Ctrl-C, a crash, kill -9 or the error budget)."""
    _continue(ctx, env, False, log_format)


@fleet_app.command("retry")
def retry(
    ctx: typer.Context,
    failed: Annotated[
        bool, typer.Option("--failed", help="Re-attempt the failed tenants.")
    ] = False,
    env: EnvOption = None,
    log_format: LogFormat = "text",
) -> None:
    """Re-attempt only the tenants that failed in the last rollout."""
    if not failed:
        raise ConfigError("fleet retry needs --failed", hint="dbfleet fleet retry --failed")
    _continue(ctx, env, True, log_format)


def _continue(ctx: typer.Context, env: str | None, failed_only: bool, log_format: str) -> None:
    from dbfleet.fleet.rollout import resume as run_resume
    from dbfleet.state import open_store

    project, environment, settings = _load(ctx, env)
    display = Display(log_format)
    with open_store(project) as store:
        try:
            report = run_resume(
                project, environment, settings, store, failed_only=failed_only, events=display
            )
        finally:
            display.close()
    _conclude(report, display)


# --- repair ---------------------------------------------------------------------------------------


@fleet_app.command("repair")
def repair(
    ctx: typer.Context,
    env: EnvOption = None,
    tenant: TenantOption = None,
    template: Annotated[bool, typer.Option("--template", help="Repair the template too.")] = False,
    failed: Annotated[
        bool,
        typer.Option("--failed", help="The databases whose last ledger result is failed."),
    ] = False,
    json: JsonOption = False,
) -> None:
    """`dbfleet repair` on the chosen tenants (default: the failed ones and a failed template):
    drop failed history rows, realign checksums, mark missing files; exit 1 if any fails."""
    from dbfleet.fleet.registry import load_registry
    from dbfleet.fleet.repair import check_ids, choose, repair_fleet
    from dbfleet.fleet.rollout import template_tenant
    from dbfleet.state import open_store

    project, environment, settings = _load(ctx, env)
    registry = load_registry(settings)
    ids = list(tenant or ())
    check_ids(ids, registry.tenants)
    with open_store(project) as store:
        ledger = store.latest_per_tenant(environment.name)
        chosen = choose(
            template_tenant(settings),
            registry.tenants,
            ledger,
            ids=ids,
            failed=failed,
            include_template=template,
        )
        if not chosen:
            if json:
                emit_json({"environment": environment.name, "databases": []})
            else:
                info("no failed tenant in the ledger: nothing to repair")
            return
        run = store.start_run(
            "fleet repair", environment=environment.name, target=f"{len(chosen)} database(s)"
        )
        started = time.perf_counter()
        results = repair_fleet(project, environment, chosen, settings.concurrency)
        broken = [r for r in results if r.error]
        store.finish_run(
            run,
            "failed" if broken else "ok",
            duration_ms=round((time.perf_counter() - started) * 1000),
            error=f"{len(broken)} database(s) failed" if broken else None,
            targets=[
                {
                    "target": r.tenant,
                    "result": "failed" if r.error else ("repaired" if r.changes else "unchanged"),
                    "duration_ms": r.duration_ms,
                    "error": r.error,
                }
                for r in results
            ],
        )
    if json:
        emit_json(
            {
                "environment": environment.name,
                "databases": [
                    {"tenant": r.tenant, "changes": list(r.changes), "error": r.error}
                    for r in results
                ],
            }
        )
    else:
        for r in results:
            if r.error:
                info(f"  FAILED  {r.tenant}: {r.error}")
            elif r.changes:
                for change in r.changes:
                    info(f"  {r.tenant}: {change}")
            else:
                info(f"  {r.tenant}: nothing to repair")
        changed = sum(1 for r in results if r.changes)
        info(
            f"repaired {len(results)} database(s): {changed} changed, "
            f"{len(results) - changed - len(broken)} unchanged, {len(broken)} failed"
        )
        if not broken and changed:
            info("next: fix the cause, then `dbfleet fleet retry --failed`")
    if broken:
        raise typer.Exit(1)


# --- status and verify ----------------------------------------------------------------------------


def _looks(
    project: Project,
    env: Environment,
    settings: FleetSettings,
    ledger: dict[str, Any] | None = None,
) -> tuple[list[Any], Any, list[Any]]:
    """(tenants with the template first, the registry, each one's Look): read from every
    tenant in parallel, or, given the `ledger`, from the ledger alone (no connection)."""
    from concurrent.futures import ThreadPoolExecutor

    from dbfleet.fleet.registry import load_registry
    from dbfleet.fleet.rollout import template_tenant
    from dbfleet.fleet.tenant import Look, look
    from dbfleet.migrate.files import Version, discover

    files = discover(project.locations)
    registry = load_registry(settings)
    tenants = [template_tenant(settings), *registry.tenants]
    if ledger is not None:
        versions = [f.version for f in files.versioned if f.version is not None]

        def recorded(tenant: Any) -> Look:
            last = ledger.get(tenant.id)
            at = last.version_after if last else None
            pending = sum(1 for v in versions if at is None or v > Version.parse(at))
            return Look(tenant.id, at, pending, last is not None and last.status == "failed")

        return tenants, registry, [recorded(t) for t in tenants]
    with ThreadPoolExecutor(max_workers=max(settings.concurrency, 4)) as pool:
        looks = list(pool.map(lambda t: look(project, env, t, files), tenants))
    return tenants, registry, looks


@fleet_app.command("status")
def status(
    ctx: typer.Context,
    env: EnvOption = None,
    only: Annotated[
        str | None, typer.Option("--only", help="failed, pending or outdated tenants only.")
    ] = None,
    from_ledger: Annotated[
        bool,
        typer.Option(
            "--from-ledger", help="Versions as the ledger records them; connect to no tenant."
        ),
    ] = False,
    json: JsonOption = False,
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="text, json, or md (a summary for a CI job or a PR comment)."
        ),
    ] = "text",
) -> None:
    """One row per tenant: version, pending, last result, duration, error; counts by version."""
    from dbfleet.migrate.files import Version
    from dbfleet.state import open_store

    if only not in (None, "failed", "pending", "outdated"):
        raise ConfigError(f"--only {only}: use failed, pending or outdated")
    if format not in ("text", "json", "md"):
        raise ConfigError(f"--format {format}: not a format", hint="use text, json or md")
    json = json or format == "json"
    project, environment, settings = _load(ctx, env)
    with open_store(project) as store:
        ledger = store.latest_per_tenant(environment.name)
    tenants, registry, looks = _looks(
        project, environment, settings, ledger if from_ledger else None
    )
    template_version = looks[0].version

    def key(v: str | None) -> Version:
        return Version.parse(v) if v else Version((0,))

    rows = []
    for tenant, seen in zip(tenants, looks, strict=True):
        last = ledger.get(tenant.id)
        failed = (
            seen.failed or seen.error is not None or (last is not None and last.status == "failed")
        )
        row = {
            "tenant": tenant.id,
            "group": tenant.group,
            "version": seen.version,
            "pending": seen.pending,
            "last_result": last.status if last else None,
            "last_run": last.finished_at if last else None,
            "duration_ms": last.duration_ms if last else None,
            "error": seen.error or (last.error if last and last.status == "failed" else None),
            "failed": failed,
            "outdated": key(seen.version) < key(template_version),
        }
        if only == "failed" and not failed:
            continue
        if only == "pending" and not seen.pending:
            continue
        if only == "outdated" and not row["outdated"]:
            continue
        rows.append(row)
    by_version: dict[str, int] = {}
    for seen in looks[1:]:
        label = seen.version or "none"
        by_version[label] = by_version.get(label, 0) + 1
    if json:
        emit_json(
            {
                "environment": environment.name,
                "template_version": template_version,
                "tenants": rows,
                "by_version": by_version,
                "skipped": list(registry.skipped),
            }
        )
        return
    if format == "md":
        emit_text(_status_markdown(environment.name, template_version, rows, by_version, key))
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"fleet: {environment.name}", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("Tenant", "Group", "Version", "Pending", "Last result", "Duration", "Error"):
        table.add_column(column, no_wrap=column != "Error")
    for row in rows:
        result = row["last_result"] or ""
        style = "red" if row["failed"] else ("yellow" if row["pending"] else "green")
        table.add_row(
            escape(row["tenant"]),
            escape(row["group"] or ""),
            f"[{style}]{row['version'] or 'none'}[/]",
            str(row["pending"]),
            result,
            f"{row['duration_ms']} ms" if row["duration_ms"] is not None else "",
            escape(row["error"] or ""),
        )
    out = console()
    out.print(table)
    out.print(
        "tenants by version: "
        + ", ".join(
            f"{v}: {n}"
            for v, n in sorted(
                by_version.items(), key=lambda i: key(i[0] if i[0] != "none" else None)
            )
        )
        + (
            f"; skipped (enabled = false): {', '.join(registry.skipped)}"
            if registry.skipped
            else ""
        )
    )


# A Markdown summary lists the tenants that need a look, not thousands of healthy ones.
MARKDOWN_ROWS = 50


def _status_markdown(
    environment: str,
    template_version: str | None,
    rows: list[dict[str, Any]],
    by_version: dict[str, int],
    key: Any,
) -> str:
    """`fleet status -f md`: counts by version, then the failed, pending or outdated tenants."""

    versions = sorted(by_version.items(), key=lambda i: key(i[0] if i[0] != "none" else None))
    failed = [r for r in rows if r["failed"]]
    attention = [r for r in rows if r["failed"] or r["pending"] or r["outdated"]]
    out = [
        f"## Fleet `{environment}`: template at `{template_version or 'nothing applied'}`",
        "",
        f"{sum(by_version.values())} tenant(s) by version: "
        + ", ".join(f"`{v}` {n}" for v, n in versions)
        + f" · {len(failed)} failed · {sum(1 for r in rows if r['pending'])} with pending work",
        "",
    ]
    if not attention:
        return "\n".join([*out, "Every tenant is at the template's version.", ""])
    out += [
        "| Tenant | Group | Version | Pending | Last result | Error |",
        "|---|---|---|---|---|---|",
    ]
    for r in attention[:MARKDOWN_ROWS]:
        cells = [
            f"`{markdown_cell(r['tenant'])}`",
            markdown_cell(r["group"] or ""),
            f"`{r['version'] or 'none'}`",
            str(r["pending"]),
            r["last_result"] or "",
            markdown_cell(r["error"] or ""),
        ]
        out.append("| " + " | ".join(cells) + " |")
    if len(attention) > MARKDOWN_ROWS:
        out.append(f"\n… and {len(attention) - MARKDOWN_ROWS} more (`dbfleet fleet status`).")
    return "\n".join(out) + "\n"


@fleet_app.command("verify")
def verify(ctx: typer.Context, env: EnvOption = None, json: JsonOption = False) -> None:
    """Reconcile the ledger with each tenant's own history table; exit 2 on disagreement."""
    from dbfleet.state import open_store

    project, environment, settings = _load(ctx, env)
    tenants, _registry, looks = _looks(project, environment, settings)
    with open_store(project) as store:
        ledger = store.latest_per_tenant(environment.name)
    problems = []
    for tenant, seen in zip(tenants, looks, strict=True):
        last = ledger.get(tenant.id)
        if seen.error is not None:
            problems.append(
                {"tenant": tenant.id, "problem": f"cannot read its history: {seen.error}"}
            )
        elif last is None:
            if seen.version is not None:
                problems.append(
                    {"tenant": tenant.id, "problem": f"at {seen.version} but not in the ledger"}
                )
        elif last.status == "done" and seen.failed:
            problems.append(
                {
                    "tenant": tenant.id,
                    "problem": "the ledger says done, its history has a failed migration",
                }
            )
        elif last.status == "done" and last.version_after != seen.version:
            problems.append(
                {
                    "tenant": tenant.id,
                    "problem": f"the ledger says {last.version_after or 'none'}, "
                    f"its history says {seen.version or 'none'}",
                }
            )
    if json:
        emit_json(
            {"environment": environment.name, "checked": len(tenants), "disagreements": problems}
        )
    else:
        for p in problems:
            info(f"{p['tenant']}: {p['problem']}")
        info(
            f"verified {len(tenants)} database(s) against the ledger: "
            f"{len(problems)} disagreement(s)"
        )
    if problems:
        raise typer.Exit(2)


# --- exec ----------------------------------------------------------------------------------------


@fleet_app.command("exec")
def exec_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="SQL file to run on each sampled tenant.")],
    env: EnvOption = None,
    sample: Annotated[
        str, typer.Option("--sample", help="Share (5%) or count of tenants.")
    ] = "100%",
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the random sample.")] = None,
    json: JsonOption = False,
) -> None:
    """Run a SQL file (smoke tests) on a random sample of tenants; exit 1 if any fails."""
    from dbfleet.fleet.registry import load_registry
    from dbfleet.fleet.smoke import run_sample

    _project, environment, settings = _load(ctx, env)
    try:
        script = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: {exc.strerror}") from None
    registry = load_registry(settings)
    results = run_sample(environment, settings, registry.tenants, script, str(file), sample, seed)
    failed = [r for r in results if r.error]
    if json:
        emit_json({"environment": environment.name, "results": [vars(r) for r in results]})
    else:
        for r in results:
            if r.error:
                info(f"  FAILED  {r.tenant}: {r.error}")
            else:
                info(
                    f"  ok      {r.tenant}: {r.statements} statement(s)"
                    + (f", result {r.result}" if r.result is not None else "")
                    + f" ({r.duration_ms} ms)"
                )
        info(
            f"{len(results)} tenant(s) sampled: "
            f"{len(results) - len(failed)} ok, {len(failed)} failed"
        )
    if failed:
        raise typer.Exit(1)


# --- drift ---------------------------------------------------------------------------------------


@fleet_app.command("drift")
def drift(
    ctx: typer.Context,
    env: EnvOption = None,
    json: JsonOption = False,
    fix_sql: Annotated[
        Path | None,
        typer.Option(
            "--fix-sql",
            help="The SQL that brings each differing tenant back to the template: '-' shows "
            "it in the report, a folder gets one TENANT.sql per differing tenant.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Details for the first N differing tenants.")
    ] = 10,
) -> None:
    """Which tenants' schemas differ from the template's, and how; exit 2 when any differ."""
    from dbfleet.fleet.drift import compare_fleet
    from dbfleet.fleet.registry import load_registry

    _project, environment, settings = _load(ctx, env)
    if fix_sql is not None and str(fix_sql) != "-" and fix_sql.exists() and not fix_sql.is_dir():
        raise ConfigError(
            f"--fix-sql {fix_sql}: not a folder",
            hint="name a folder (one TENANT.sql per differing tenant goes there), or '-'",
        )
    registry = load_registry(settings)
    report = compare_fleet(settings, registry.tenants, history_table=environment.history_table)
    differ = [t for t in report.tenants if not t.matches and not t.error]
    inline = fix_sql is not None and str(fix_sql) == "-"
    if json:
        emit_json(
            {
                "environment": environment.name,
                "template_fingerprint": report.template,
                "compared": len(report.tenants),
                "differ": len(differ),
                "unreadable": sum(1 for t in report.tenants if t.error),
                "tenants": [t.to_data() for t in report.tenants],
            }
        )
    else:
        out = console()
        for t in report.tenants:
            if t.error:
                info(f"{t.tenant}: cannot inspect: {t.error}")
        for number, t in enumerate(differ):
            count = len(t.differences)
            out.print(
                f"{t.tenant}: differs from the template ({count} difference"
                f"{'' if count == 1 else 's'})",
                markup=False,
                highlight=False,
            )
            if number >= limit:
                continue
            for d in t.differences:
                out.print(f"  {d.kind} {d.name}: {d.what}", markup=False, highlight=False)
            if inline and t.fix_sql:
                out.print(t.fix_sql, markup=False, highlight=False)
        if len(differ) > limit:
            out.print(
                f"details shown for the first {limit} of {len(differ)} differing tenants "
                "(--limit N for more, --json for all)",
                markup=False,
            )
        out.print(
            f"{len(report.tenants)} tenant(s) compared with the template "
            f"({report.template[:12]}): {len(differ)} differ",
            markup=False,
        )
    if fix_sql is not None and not inline:
        written = _write_fix_sql(fix_sql, [(t.tenant, t.fix_sql) for t in differ if t.fix_sql])
        info(f"wrote {written} fix script(s) to {fix_sql}")
    if any(not t.matches for t in report.tenants):
        raise typer.Exit(2)


def _write_fix_sql(folder: Path, scripts: list[tuple[str, str]]) -> int:
    """One TENANT.sql per tenant; ids that are not file names are made into safe ones."""
    import re

    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for tenant, sql in scripts:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", tenant).strip("._") or "tenant"
        name, n = stem, 1
        while name.lower() in used:
            n += 1
            name = f"{stem}-{n}"
        used.add(name.lower())
        (folder / f"{name}.sql").write_text(sql, encoding="utf-8")
    return len(scripts)


# --- maintain partitions -------------------------------------------------------------------------

maintain_app = typer.Typer(
    name="maintain", help="Routine upkeep: partitions ahead of time.", no_args_is_help=True
)
app.add_typer(maintain_app, name="maintain")


class _NoLedger:
    """Partition upkeep changes no version: nothing goes in the fleet ledger."""

    def started(self, tenant: Any, wave: Any) -> None: ...
    def finished(self, tenant: Any, wave: Any, outcome: Any) -> None: ...


@maintain_app.command("partitions")
def partitions(
    ctx: typer.Context,
    env: EnvOption = None,
    lookahead: Annotated[
        str | None, typer.Option("--lookahead", help="Create partitions this far ahead (30d).")
    ] = None,
    retention: Annotated[
        str | None, typer.Option("--retention", help="Detach/drop partitions older (400d).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be done.")] = False,
    log_format: LogFormat = "text",
) -> None:
    """Create future range partitions and retire expired ones, on every tenant of a fleet."""
    from dbfleet.config import load_project
    from dbfleet.fleet.executor import Limits, execute
    from dbfleet.fleet.partitions import days, maintain_tenant, require_support, specs
    from dbfleet.fleet.registry import Tenant, load_registry
    from dbfleet.fleet.rollout import Selection, plan_waves, template_tenant
    from dbfleet.fleet.settings import fleet_settings
    from dbfleet.fleet.tenant import FAILED
    from dbfleet.state import open_store

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    if not project.partitions:
        raise ConfigError(
            f"{project.source}: no [[partitions]] declared",
            hint='add [[partitions]] table = "events", column = "created_at", interval = "1 day"',
        )
    environment = project.environment(env)
    declared = specs(project.partitions, project.source)
    ahead = days(lookahead, "--lookahead") if lookahead else None
    keep = days(retention, "--retention") if retention else None
    display = Display(log_format)

    def work(tenant: Tenant) -> Any:
        return maintain_tenant(
            tenant, declared, lookahead_days=ahead, retention_days=keep, dry_run=dry_run
        )

    if environment.fleet is not None:
        settings = fleet_settings(project, environment)
        first = template_tenant(settings)
        require_support(environment.name, first.url.engine)
        waves = plan_waves(settings, load_registry(settings), Selection(), "migrate")
        limits = Limits(
            settings.concurrency,
            settings.per_server_concurrency,
            settings.failure_budget(sum(len(w.tenants) for w in waves)),
        )
    else:
        first = Tenant(environment.name, environment.url)
        require_support(environment.name, first.url.engine)
        waves, limits = [], Limits(1, 1, 0)
    outcomes = [work(first)]
    if outcomes[0].status != FAILED and waves:
        summary = execute(waves, work, limits, _NoLedger(), display)
        outcomes += sorted(summary.outcomes.values(), key=lambda o: o.tenant)
        not_started = summary.not_started
    else:
        not_started = [t.id for w in waves for t in w.tenants]
    display.close()
    with open_store(project) as store:
        run = store.start_run("maintain partitions", environment=environment.name)
        failed = [o for o in outcomes if o.status == FAILED]
        if not dry_run:
            store.finish_run(
                run,
                "failed" if failed or not_started else "ok",
                duration_ms=sum(o.duration_ms for o in outcomes),
                error=f"{len(failed)} database(s) failed" if failed else None,
                targets=[
                    {
                        "target": o.tenant,
                        "result": o.status,
                        "duration_ms": o.duration_ms,
                        "error": o.error,
                    }
                    for o in outcomes
                ],
            )
        else:
            store.finish_run(run, "dry-run")
    verb = "would" if dry_run else "did"
    if display.json:
        display(
            "summary",
            dry_run=dry_run,
            databases=[
                {
                    "tenant": o.tenant,
                    "status": o.status,
                    "actions": list(o.scripts),
                    "error": o.error,
                }
                for o in outcomes
            ],
            not_started=not_started,
        )
    else:
        for o in outcomes:
            if o.error:
                info(f"  FAILED  {o.tenant}: {o.error}")
            for action in o.scripts:
                info(f"  {o.tenant}: {verb} {action}")
        changed = sum(1 for o in outcomes if o.scripts)
        info(
            f"partitions on {len(outcomes)} database(s): {changed} {verb} change, "
            f"{len(outcomes) - changed - len(failed)} already in shape, {len(failed)} failed"
            + (f", {len(not_started)} not started" if not_started else "")
        )
    if failed or not_started:
        raise typer.Exit(1)
