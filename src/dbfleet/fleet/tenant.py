"""One tenant's share of a rollout: migrate, undo or look at it, exactly as single-target
`dbfleet migrate` / `undo` / `status` do (same lock, same history table, same transactions)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dbfleet.config import Environment, Project
from dbfleet.errors import DbfleetError, ValidationError
from dbfleet.fleet.registry import Tenant
from dbfleet.migrate.files import Kind, MigrationSet, Version
from dbfleet.migrate.placeholders import fill
from dbfleet.migrate.runner import MIGRATE, UNDO, Runner
from dbfleet.migrate.state import Entry, State, TargetState
from dbfleet.migrate.target import Target
from dbfleet.secrets import redact

if TYPE_CHECKING:
    from dbfleet.engines.base import Connection

DONE, FAILED, PENDING, RUNNING = "done", "failed", "pending", "running"
_IN_DATABASE = (State.APPLIED, State.CHANGED, State.RENAMED)


@dataclass(frozen=True)
class Outcome:
    """What happened to one tenant."""

    tenant: str
    status: str  # done | failed
    version_before: str | None
    version_after: str | None
    applied: int
    duration_ms: int
    error: str | None = None
    scripts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Look:
    """A tenant as `fleet status` shows it (read only)."""

    tenant: str
    version: str | None
    pending: int
    failed: bool
    error: str | None = None


def tenant_environment(env: Environment, tenant: Tenant) -> Environment:
    """The environment as seen by one tenant: its URL, its schema, its placeholders.

    `${tenant}` is the id as a SQL string literal and `${tenant_schema}` the schema as an
    identifier, both quoted by the engine, so an id like `x"; drop table t; --` stays data.
    """
    from dbfleet.engines import dialect_for

    dialect = dialect_for(tenant.url.engine)
    placeholders = {**env.placeholders, "tenant": dialect.quote_literal(tenant.id)}
    if tenant.schema is not None:
        placeholders["tenant_schema"] = dialect.quote_ident(tenant.schema)
    return replace(
        env,
        url=tenant.url,
        history_schema=tenant.schema if tenant.schema is not None else env.history_schema,
        placeholders=placeholders,
    )


class Deadline:
    """A tenant's tenant_timeout, counted from when its work starts.

    The runner asks it before each migration (and each statement it sends on its own), so
    nothing new starts once it has passed; `watching` cancels the statement that is running
    at that moment (Connection.cancel), which fails and is rolled back where the engine can.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def passed(self, script: str | None = None) -> str | None:
        if time.monotonic() < self.ends:
            return None
        return f"timed out after {self.seconds:g}s" + (f" (at {script})" if script else "")

    @contextmanager
    def watching(self, conn: Connection) -> Iterator[None]:
        timer = threading.Timer(max(0.0, self.ends - time.monotonic()), conn.cancel)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()


def _open(project: Project, env: Environment, *, create: bool) -> Target:
    return Target.open(
        env.url,
        table=env.history_table,
        schema=env.history_schema,
        lock_wait=project.lock_wait_seconds,
        create=create,
    )


def _head(state: TargetState) -> str | None:
    return str(state.head) if state.head is not None else None


def _check(project: Project, state: TargetState) -> None:
    problems = state.problems(
        out_of_order=project.out_of_order, failures_only=not project.validate_on_migrate
    )
    if problems:
        raise ValidationError("validation failed, nothing was run: " + "; ".join(problems))


def run_tenant(
    project: Project,
    env: Environment,
    tenant: Tenant,
    files: MigrationSet,
    *,
    action: str,
    version: Version | None,
    timeout: float | None = None,
    init_sql: str | None = None,
) -> Outcome:
    """Migrate (action "migrate") or undo (action "undo", down to `version`) one tenant.

    Never raises for the tenant's own problems: they come back as a failed Outcome.
    """
    started = time.perf_counter()
    before: str | None = None
    after: str | None = None
    scripts: list[str] = []
    tenant_env = tenant_environment(env, tenant)
    target: Target | None = None
    deadline = Deadline(timeout) if timeout else None
    try:
        target = _open(project, tenant_env, create=True)
        watch = deadline.watching(target.conn) if deadline else nullcontext()
        with watch:
            if init_sql:
                target.conn.execute(fill(init_sql, tenant_env.placeholders, "fleet.init_sql"))
            with target.locked():
                target.ensure_history()
                state = target.state(files)
                before = _head(state)
                _check(project, state)
                runner = Runner(
                    target,
                    files,
                    dict(tenant_env.placeholders),
                    environment=env.name,
                    placeholder_replacement=project.placeholder_replacement,
                    deadline=deadline,
                )
                if action == "undo":
                    chosen = _to_undo(state, version)
                    lacking = [e.script for e in chosen if e.version not in files.undo]
                    if lacking:
                        raise DbfleetError(
                            "cannot undo: no undo script for " + ", ".join(lacking),
                            hint="write U<version>__<description>.sql for each",
                        )
                    work = runner.prepare(chosen, UNDO)
                else:
                    pending = state.pending(target=version, out_of_order=project.out_of_order)
                    work = runner.prepare(pending, MIGRATE)
                for label, _ in runner.run(work) if work.units else []:
                    scripts.append(label)
                if action == "undo" and scripts:
                    after = _head(target.state(files))
                else:  # every unit ran: the head is the newest of them (saves re-reading history)
                    ran = [
                        u.entry.version
                        for u in work.units
                        if u.entry.kind is Kind.VERSIONED and u.entry.version is not None
                    ]
                    heads = [v for v in (state.head, *ran) if v is not None]
                    after = str(max(heads)) if heads else None
        return Outcome(
            tenant.id, DONE, before, after, len(scripts), _ms(started), None, tuple(scripts)
        )
    except Exception as exc:  # a tenant's failure is data, never the rollout's crash
        message = exc.message if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
        late = deadline.passed() if deadline is not None else None
        if late and not message.startswith(late):  # e.g. the lock wait or a history write
            message = f"{late}: {message}"
        if target is not None and after is None:
            try:
                after = _head(target.state(files))
            except Exception:
                after = before
        return Outcome(
            tenant.id,
            FAILED,
            before,
            after,
            len(scripts),
            _ms(started),
            redact(message),
            tuple(scripts),
        )
    finally:
        if target is not None:
            with suppress(Exception):
                target.close()


def _to_undo(state: TargetState, to: Version | None) -> list[Entry]:
    applied = sorted(
        (e for e in state.entries if e.kind is Kind.VERSIONED and e.state in _IN_DATABASE),
        key=lambda e: e.version or Version((0,)),
        reverse=True,
    )
    return applied[:1] if to is None else [e for e in applied if e.version and e.version > to]


def pending_for(
    project: Project,
    env: Environment,
    tenant: Tenant,
    files: MigrationSet,
    *,
    action: str,
    version: Version | None,
) -> tuple[str | None, list[str]]:
    """What `run_tenant` would run (dry run): the current version and the scripts, read only."""
    tenant_env = tenant_environment(env, tenant)
    target = _open(project, tenant_env, create=False)
    try:
        state = target.state(files)
        if action == "undo":
            entries = _to_undo(state, version)
            return _head(state), [e.script for e in entries]
        pending = state.pending(target=version, out_of_order=project.out_of_order)
        return _head(state), [e.script for e in pending]
    finally:
        target.close()


def look(project: Project, env: Environment, tenant: Tenant, files: MigrationSet) -> Look:
    """A tenant's version and pending count from its own history table (read only)."""
    try:
        tenant_env = tenant_environment(env, tenant)
        target = _open(project, tenant_env, create=False)
        try:
            state = target.state(files)
        finally:
            target.close()
    except Exception as exc:
        message = exc.message if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
        return Look(tenant.id, None, 0, False, redact(message))
    return Look(
        tenant.id,
        _head(state),
        sum(1 for e in state.pending(out_of_order=project.out_of_order)),
        any(e.state is State.FAILED for e in state.entries),
    )


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
