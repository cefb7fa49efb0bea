"""Rollouts: template first, then the tenants in waves, each step written to the fleet ledger.

`start` begins a rollout, `resume` continues the last one (pending and interrupted tenants),
`retry` re-attempts its failed tenants. The ledger in the state store says, per tenant,
what was attempted and where it ended, so any process can pick up where another stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.fleet.executor import Events, Limits, Summary, execute
from dbfleet.fleet.registry import TEMPLATE, Registry, Tenant, load_registry, select_tenants
from dbfleet.fleet.settings import FleetSettings
from dbfleet.fleet.tenant import DONE, FAILED, PENDING, RUNNING, Outcome, run_tenant
from dbfleet.fleet.waves import Wave, assign_waves
from dbfleet.migrate.files import MigrationSet, Version, discover

if TYPE_CHECKING:
    from dbfleet.config import Environment, Project
    from dbfleet.state import StateStore

MIGRATE, UNDO = "migrate", "undo"


@dataclass(frozen=True)
class Selection:
    """Which tenants a command works on (--tenant, --group, --wave)."""

    tenant_ids: tuple[str, ...] = ()
    group: str | None = None
    wave: int | None = None


@dataclass
class Report:
    rollout_id: str
    action: str
    version: str | None
    template: Outcome | None
    summary: Summary = field(default_factory=Summary)
    skipped: tuple[str, ...] = ()
    template_failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.template_failed and not self.summary.failed and not self.summary.stopped


class StoreLedger:
    """The executor's ledger hooks, written to the state store."""

    def __init__(self, store: StateStore, rollout_id: str) -> None:
        self.store = store
        self.rollout_id = rollout_id

    def started(self, tenant: Tenant, wave: Wave) -> None:
        self.store.tenant_started(self.rollout_id, tenant.id, None)

    def finished(self, tenant: Tenant, wave: Wave, outcome: Outcome) -> None:
        self.store.tenant_finished(
            self.rollout_id,
            tenant.id,
            status=outcome.status,
            version_before=outcome.version_before,
            version_after=outcome.version_after,
            duration_ms=outcome.duration_ms,
            applied=outcome.applied,
            error=outcome.error,
        )


def template_tenant(settings: FleetSettings) -> Tenant:
    return Tenant(TEMPLATE, settings.template_url, schema=settings.template_schema)


def plan_waves(
    settings: FleetSettings, registry: Registry, selection: Selection, action: str
) -> list[Wave]:
    """The waves of this rollout, limited to the selection; undo runs them in reverse."""
    waves = assign_waves(registry.tenants, settings.waves)
    if selection.wave is not None:
        if not 1 <= selection.wave <= len(waves):
            raise ConfigError(
                f"--wave {selection.wave}: this fleet has {len(waves)} wave(s)",
                hint="waves are numbered from 1 in the order of [environments.X.fleet] waves",
            )
        waves = [waves[selection.wave - 1]]
    chosen = {
        t.id
        for t in select_tenants(registry.tenants, ids=selection.tenant_ids, group=selection.group)
    }
    waves = [Wave(w.number, w.name, tuple(t for t in w.tenants if t.id in chosen)) for w in waves]
    if action == UNDO:
        waves = [Wave(w.number, w.name, tuple(reversed(w.tenants))) for w in reversed(waves)]
    return [w for w in waves if w.tenants]


def _limits(settings: FleetSettings, total: int) -> Limits:
    return Limits(
        concurrency=settings.concurrency,
        per_server=settings.per_server_concurrency,
        budget=settings.failure_budget(total),
    )


def _run(
    project: Project,
    env: Environment,
    settings: FleetSettings,
    store: StateStore,
    rollout_id: str,
    action: str,
    version: Version | None,
    files: MigrationSet,
    waves: Sequence[Wave],
    run_template: bool,
    events: Events,
    note: str | None = None,
) -> Report:
    report = Report(rollout_id, action, str(version) if version else None, None)
    ledger = StoreLedger(store, rollout_id)
    run_id = store.start_run(
        f"fleet {action}",
        environment=env.name,
        target=f"{sum(len(w.tenants) for w in waves)} tenants",
        note=note,
    )
    started = time.perf_counter()
    template_wave = Wave(0, "template", ())
    if run_template:
        template = template_tenant(settings)
        events("tenant_started", tenant=TEMPLATE, wave=0)
        ledger.started(template, template_wave)
        outcome = run_tenant(
            project,
            env,
            template,
            files,
            action=action,
            version=version,
            timeout=settings.tenant_timeout,
            init_sql=settings.init_sql,
        )
        ledger.finished(template, template_wave, outcome)
        report.template = outcome
        events(
            "tenant_" + ("finished" if outcome.status == DONE else "failed"),
            tenant=TEMPLATE,
            wave=0,
            version_before=outcome.version_before,
            version_after=outcome.version_after,
            applied=outcome.applied,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
        )
        if outcome.status == FAILED:
            report.template_failed = True
            report.summary.not_started = [t.id for w in waves for t in w.tenants]
            store.set_rollout(rollout_id, "failed")
            store.finish_run(
                run_id,
                "failed",
                duration_ms=_ms(started),
                error=f"the template failed, no tenant was started: {outcome.error}",
            )
            events("rollout_finished", rollout=rollout_id, status="failed")
            return report

    def work(tenant: Tenant) -> Outcome:
        return run_tenant(
            project,
            env,
            tenant,
            files,
            action=action,
            version=version,
            timeout=settings.tenant_timeout,
            init_sql=settings.init_sql,
        )

    total = sum(len(w.tenants) for w in waves)
    try:
        report.summary = execute(waves, work, _limits(settings, total), ledger, events)
    except KeyboardInterrupt:
        # Tenants that were running stay "running" in the ledger: `fleet resume` re-checks
        # them under their lock and runs only what their history says is still pending.
        store.set_rollout(rollout_id, "interrupted")
        store.finish_run(run_id, "interrupted", duration_ms=_ms(started))
        raise
    status = "done" if report.ok else ("stopped" if report.summary.stopped else "failed")
    store.set_rollout(rollout_id, status)
    failed = report.summary.failed
    store.finish_run(
        run_id,
        "ok" if report.ok else "failed",
        duration_ms=_ms(started),
        error=f"{len(failed)} tenant(s) failed" if failed else None,
    )
    events(
        "rollout_finished",
        rollout=rollout_id,
        status=status,
        done=len(report.summary.done),
        failed=len(failed),
        not_started=len(report.summary.not_started),
    )
    return report


def start(
    project: Project,
    env: Environment,
    settings: FleetSettings,
    store: StateStore,
    *,
    action: str,
    version: Version | None,
    selection: Selection,
    events: Events,
    note: str | None = None,
) -> Report:
    """A new rollout: the template, then the selected tenants wave by wave. `note` says why,
    when the environment's policy asks (an undo's reason); it is kept with the rollout."""
    files = discover(project.locations)
    registry = load_registry(settings)
    waves = plan_waves(settings, registry, selection, action)
    tenants = [(TEMPLATE, 0)] + [(t.id, w.number) for w in waves for t in w.tenants]
    options = json.dumps(
        {"tenants": list(selection.tenant_ids), "group": selection.group, "wave": selection.wave}
        | ({"reason": note} if note else {})
    )
    rollout = store.start_rollout(
        env.name, action, str(version) if version else None, tenants, options=options
    )
    events(
        "rollout_started",
        rollout=rollout.id,
        action=action,
        environment=env.name,
        target_version=str(version) if version else None,
        tenants=len(tenants) - 1,
        waves=[{"wave": w.number, "name": w.name, "tenants": len(w.tenants)} for w in waves],
        skipped=list(registry.skipped),
    )
    report = _run(
        project, env, settings, store, rollout.id, action, version, files, waves, True, events, note
    )
    report.skipped = registry.skipped
    return report


def resume(
    project: Project,
    env: Environment,
    settings: FleetSettings,
    store: StateStore,
    *,
    failed_only: bool,
    events: Events,
) -> Report:
    """Continue the environment's last rollout: its unfinished tenants (resume) or its failed
    ones (retry). A tenant the ledger says is done is never run again."""
    rollouts = store.rollouts(env.name, limit=1)
    if not rollouts:
        raise DbfleetError(
            f"no rollout of environment '{env.name}' to continue",
            hint=f"start one with `dbfleet fleet migrate --env {env.name}`",
        )
    rollout = rollouts[0]
    rows = store.ledger(rollout.id)
    wanted = (FAILED,) if failed_only else (PENDING, RUNNING)
    todo = {r.tenant: r.wave for r in rows if r.status in wanted}
    if not todo:
        events(
            "nothing_to_resume",
            rollout=rollout.id,
            status=rollout.status,
            failed_only=failed_only,
        )
        return Report(rollout.id, rollout.action, rollout.target_version, None)
    files = discover(project.locations)
    version = Version.parse(rollout.target_version) if rollout.target_version else None
    registry = load_registry(settings)
    known = {t.id: t for t in registry.tenants}
    gone = [t for t in todo if t != TEMPLATE and t not in known]
    lost = [
        Outcome(t, FAILED, None, None, 0, 0, "no longer an enabled tenant in the registry")
        for t in gone
    ]
    for outcome in lost:
        store.tenant_finished(
            rollout.id,
            outcome.tenant,
            status=FAILED,
            version_before=None,
            version_after=None,
            duration_ms=0,
            applied=0,
            error=outcome.error,
        )
    by_wave: dict[int, list[Tenant]] = {}
    for tenant_id, wave in todo.items():
        if tenant_id in known:
            by_wave.setdefault(wave, []).append(known[tenant_id])
    names = {w.number: w.name for w in assign_waves(registry.tenants, settings.waves)}
    waves = [
        Wave(n, names.get(n, str(n)), tuple(sorted(ts, key=lambda t: t.id)))
        for n, ts in sorted(by_wave.items(), reverse=rollout.action == UNDO)
    ]
    run_template = TEMPLATE in todo
    store.set_rollout(rollout.id, "running", finished=False)
    events(
        "rollout_resumed",
        rollout=rollout.id,
        action=rollout.action,
        environment=env.name,
        target_version=rollout.target_version,
        tenants=sum(len(w.tenants) for w in waves),
        failed_only=failed_only,
    )
    report = _run(
        project,
        env,
        settings,
        store,
        rollout.id,
        rollout.action,
        version,
        files,
        waves,
        run_template,
        events,
        json.loads(rollout.options or "{}").get("reason"),  # a resumed undo keeps its reason
    )
    for outcome in lost:
        report.summary.outcomes[outcome.tenant] = outcome
    return report


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
