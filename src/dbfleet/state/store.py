"""The state store: what dbfleet did (runs, per-target results, approvals, fleet ledgers).

A SQLite file in the project (`.dbfleet/state.db`) by default, or the PostgreSQL database named
by `[project] state_url`. Its schema is migrated by dbfleet's own migration runner (same lock,
same history table format) from the scripts in `dbfleet/state/migrations/`.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.secrets import redact

if TYPE_CHECKING:
    from dbfleet.config import Project
    from dbfleet.dburl import DatabaseUrl
    from dbfleet.engines.base import Connection

STATE_FILE = ".dbfleet/state.db"
HISTORY_TABLE = "dbfleet_state_history"
MIGRATIONS = Path(__file__).with_name("migrations")
_ENGINES = ("sqlite", "postgresql")


def now() -> str:
    """The current time as stored: ISO-8601 UTC with milliseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Who triggered a CI job, in the variables each CI system sets (after DBFLEET_ACTOR).
CI_ACTOR_VARIABLES = (
    "GITHUB_ACTOR",  # GitHub Actions
    "GITLAB_USER_LOGIN",  # GitLab CI
    "BITBUCKET_STEP_TRIGGERER_UUID",  # Bitbucket Pipelines
    "BUILD_REQUESTEDFOREMAIL",  # Azure Pipelines
)


def actor() -> str:
    """Who is running dbfleet: DBFLEET_ACTOR, the CI system's actor, the git user, the OS user."""
    for variable in ("DBFLEET_ACTOR", *CI_ACTOR_VARIABLES):
        found = os.environ.get(variable, "").strip()
        if found:
            return found
    git_user = _git_user()
    if git_user:
        return git_user
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (some containers)
        return str(os.getuid())


@cache
def _git_user() -> str | None:
    """git's user.email (else user.name), as configured where dbfleet runs; None without git.
    Asked once per process (a run records several rows)."""
    import subprocess

    for key in ("user.email", "user.name"):
        try:
            found = subprocess.run(
                ["git", "config", "--get", key], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        if found:
            return found
    return None


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Run:
    id: str
    actor: str
    started_at: str
    finished_at: str | None
    command: str
    environment: str | None
    target: str | None
    plan_hash: str | None
    result: str
    duration_ms: int | None
    error: str | None
    note: str | None = None  # why, when the policy asks (an undo's --reason)


@dataclass(frozen=True)
class Rollout:
    id: str
    environment: str
    action: str
    target_version: str | None
    actor: str
    started_at: str
    finished_at: str | None
    status: str
    options: str | None


@dataclass(frozen=True)
class LedgerRow:
    rollout_id: str
    tenant: str
    wave: int
    version_before: str | None
    version_after: str | None
    status: str
    attempts: int
    started_at: str | None
    finished_at: str | None
    duration_ms: int | None
    applied: int | None
    error: str | None


@dataclass(frozen=True)
class Approval:
    id: str
    plan_hash: str
    environment: str
    approver: str
    approved_at: str
    comment: str | None
    digest: str | None = None
    revoked_at: str | None = None
    revoked_by: str | None = None

    def expected_digest(self) -> str:
        """The digest dbfleet wrote with this row: an HMAC over everything the row says, its
        revocation included, keyed with DBFLEET_APPROVAL_KEY when set (a CI secret), so a row
        inserted or edited by hand (a revocation undone) does not count."""
        import hashlib
        import hmac

        said = "\n".join(
            [
                self.id,
                self.plan_hash,
                self.environment,
                self.approver,
                self.approved_at,
                self.comment or "",
                self.revoked_at or "",
                self.revoked_by or "",
            ]
        )
        return hmac.new(approval_key(), said.encode("utf-8"), hashlib.sha256).hexdigest()

    @property
    def genuine(self) -> bool:
        import hmac

        return self.digest is not None and hmac.compare_digest(self.digest, self.expected_digest())


def approval_key() -> bytes:
    """The key approvals are signed with: DBFLEET_APPROVAL_KEY, else a fixed one that only
    catches careless edits (anyone who reads dbfleet's source can sign with it)."""
    return os.environ.get("DBFLEET_APPROVAL_KEY", "dbfleet approval").encode("utf-8")


def approval_key_set() -> bool:
    return bool(os.environ.get("DBFLEET_APPROVAL_KEY"))


@dataclass(frozen=True)
class PlanRecord:
    hash: str
    environment: str
    planned_by: str
    planned_at: str
    target: str | None
    migrations: str  # JSON: [[script, checksum], ...]


@dataclass(frozen=True)
class PipelineRun:
    id: str
    actor: str
    started_at: str
    finished_at: str | None
    status: str  # running, ok, failed, waiting (for approval), interrupted
    from_stage: str | None
    to_stage: str | None
    stopped_at: str | None
    message: str | None


@dataclass(frozen=True)
class PipelineStep:
    run_id: str
    stage: str
    step: str
    status: str  # running, ok, failed, waiting, skipped
    started_at: str | None
    finished_at: str | None
    duration_ms: int | None
    exit_code: int | None
    log_tail: str | None


def store_url(project: Project) -> DatabaseUrl:
    """Where the project's state store lives: [project] state_url, else .dbfleet/state.db."""
    from dbfleet.dburl import parse_url

    if project.state_url:
        where = f"{project.source}: project.state_url"
        url = parse_url(project.resolve(project.state_url, where, secret=True), where=where)
        if url.engine not in _ENGINES:
            raise ConfigError(
                f"{where}: the state store cannot live on {url.engine}",
                hint="use a postgresql:// URL, or remove state_url for the SQLite file",
            )
        return url.anchored(project.root)
    return parse_url(f"sqlite:///{project.root / STATE_FILE}", where="state store")


class StateStore:
    """An open state store. Every write is one transaction; readers never block writers long.

    Not thread-safe: one store per thread (the fleet executor writes from its main thread).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect

    @classmethod
    def open(cls, project: Project) -> StateStore:
        return cls.open_url(store_url(project), lock_wait=project.lock_wait_seconds)

    @classmethod
    def open_url(cls, url: DatabaseUrl, *, lock_wait: float = 600.0) -> StateStore:
        from dbfleet.engines import connect

        conn = connect(url)
        try:
            for sql in conn.dialect.store_session:  # e.g. SQLite's WAL and busy_timeout
                conn.query(sql)
            store = cls(conn)
            store._upgrade(lock_wait)
            return store
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _upgrade(self, lock_wait: float) -> None:
        """Bring the store's schema to this dbfleet's version with the migration runner."""
        from dbfleet.migrate.files import discover
        from dbfleet.migrate.runner import MIGRATE, Runner
        from dbfleet.migrate.state import State
        from dbfleet.migrate.target import Target

        files = discover([MIGRATIONS])
        target = Target(self.conn, table=HISTORY_TABLE, schema=None, lock_wait=lock_wait)
        if target.history_exists() and not target.state(files).pending():
            state = target.state(files)
        else:
            with target.locked():
                target.ensure_history()
                state = target.state(files)
                pending = state.pending()
                if pending and not any(e.state is State.MISSING for e in state.entries):
                    runner = Runner(target, files, {}, environment="state store")
                    runner.run(runner.prepare(pending, MIGRATE))
                    state = target.state(files)
        newer = [e.script for e in state.entries if e.state is State.MISSING]
        if newer:
            raise DbfleetError(
                f"the state store at {self.conn.url.display} was written by a newer dbfleet "
                f"({', '.join(newer)})",
                hint="upgrade dbfleet to use it",
            )

    # --- writing ----------------------------------------------------------------------------

    def _literal(self, value: str | int | bool | None) -> str:
        if isinstance(value, str):
            value = redact(value)
        return self.dialect.quote_literal(value)

    def _insert(self, table: str, row: Mapping[str, str | int | None]) -> str:
        columns = ", ".join(row)
        values = ", ".join(self._literal(v) for v in row.values())
        return f"INSERT INTO {table} ({columns}) VALUES ({values})"

    def _update(
        self, table: str, values: Mapping[str, str | int | None], where: Mapping[str, str]
    ) -> str:
        assignments = ", ".join(f"{k} = {self._literal(v)}" for k, v in values.items())
        condition = " AND ".join(f"{k} = {self._literal(v)}" for k, v in where.items())
        return f"UPDATE {table} SET {assignments} WHERE {condition}"

    def write(self, statements: Sequence[str]) -> None:
        """Run `statements` as one transaction."""
        from dbfleet.engines.base import StatementError

        try:
            with self.conn.transaction():
                for sql in statements:
                    self.conn.execute(sql)
        except StatementError as exc:
            raise DbfleetError(
                f"cannot write to the state store at {self.conn.url.display}: {exc.message}",
                hint="another dbfleet may be holding it (SQLite waits 30 s); run the command "
                "again, and `dbfleet fleet resume` continues an interrupted rollout",
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    # --- runs -------------------------------------------------------------------------------

    def start_run(
        self,
        command: str,
        *,
        environment: str | None = None,
        target: str | None = None,
        plan_hash: str | None = None,
        note: str | None = None,
    ) -> str:
        run_id = new_id()
        self.write(
            [
                self._insert(
                    "runs",
                    {
                        "id": run_id,
                        "actor": actor(),
                        "started_at": now(),
                        "command": command,
                        "environment": environment,
                        "target": target,
                        "plan_hash": plan_hash,
                        "result": "running",
                        "note": note,
                    },
                )
            ]
        )
        return run_id

    def finish_run(
        self,
        run_id: str,
        result: str,
        *,
        duration_ms: int | None = None,
        error: str | None = None,
        targets: Sequence[Mapping[str, str | int | None]] = (),
        migrations: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Close a run and record its per-target results and the (script, checksum) of each
        migration it applied, all in one transaction."""
        statements = [
            self._update(
                "runs",
                {
                    "finished_at": now(),
                    "result": result,
                    "duration_ms": duration_ms,
                    "error": error,
                },
                {"id": run_id},
            )
        ]
        statements += [self._insert("run_targets", {"run_id": run_id, **t}) for t in targets]
        statements += [
            self._insert(
                "run_migrations",
                {"run_id": run_id, "position": n, "script": script, "checksum": checksum},
            )
            for n, (script, checksum) in enumerate(migrations)
        ]
        self.write(statements)

    def runs(
        self,
        *,
        environment: str | None = None,
        limit: int = 20,
        command: str | None = None,
        result: str | None = None,
        since: str | None = None,
    ) -> list[Run]:
        """The newest runs first; `command` matches a command or its group ("fleet" matches
        "fleet migrate"), `since` is an ISO-8601 time or date."""
        conditions = []
        if environment:
            conditions.append(f"environment = {self._literal(environment)}")
        if command:
            conditions.append(
                f"(command = {self._literal(command)} "
                f"OR command LIKE {self._literal(command.replace('%', '') + ' %')})"
            )
        if result:
            conditions.append(f"result = {self._literal(result)}")
        if since:
            conditions.append(f"started_at >= {self._literal(since)}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self.conn.records(
            f"SELECT * FROM runs{where} ORDER BY started_at DESC, id LIMIT {int(limit)}"
        )
        return [Run(**_fields(Run, r)) for r in rows]

    def applied_in(
        self, environment: str, target: str, units: Sequence[tuple[str, str]]
    ) -> set[str]:
        """Which of `units` (script, checksum) a successful run recorded applying to
        `environment` at `target` (its URL as shown: a run pointed elsewhere with --url does
        not count)."""
        if not units:
            return set()
        scripts = ", ".join(self._literal(script) for script, _ in units)
        rows = self.conn.records(
            "SELECT DISTINCT m.script, m.checksum FROM run_migrations m "
            "JOIN runs r ON r.id = m.run_id "
            f"WHERE r.environment = {self._literal(environment)} AND r.result = 'ok' "
            f"AND r.target = {self._literal(target)} AND m.script IN ({scripts})"
        )
        found = {(r["script"], r["checksum"]) for r in rows}
        return {script for script, checksum in units if (script, checksum) in found}

    def run_targets(self, run_id: str) -> list[dict[str, Any]]:
        return self.conn.records(
            f"SELECT * FROM run_targets WHERE run_id = {self._literal(run_id)} ORDER BY target"
        )

    # --- approvals --------------------------------------------------------------------------

    def approve(
        self, plan_hash: str, environment: str, *, approver: str | None = None, comment: str = ""
    ) -> Approval:
        # Stored as written (redacted), so the digest must be over the redacted text.
        who, said = redact(approver or actor()), redact(comment)
        draft = Approval(new_id(), plan_hash, environment, who, now(), said)
        approval = Approval(**{**vars(draft), "digest": draft.expected_digest()})
        self.write([self._insert("approvals", vars(approval))])
        return approval

    def approvals(
        self, plan_hash: str | None = None, *, environment: str | None = None, limit: int = 100
    ) -> list[Approval]:
        """Approvals of one plan (oldest first), or the latest of an environment or of all."""
        if plan_hash is not None:
            where, order = f"plan_hash = {self._literal(plan_hash)}", "approved_at, id"
        else:
            where, order = "1 = 1", "approved_at DESC, id"
        if environment is not None:
            where += f" AND environment = {self._literal(environment)}"
        rows = self.conn.records(
            f"SELECT * FROM approvals WHERE {where} ORDER BY {order} LIMIT {int(limit)}"
        )
        return [Approval(**_fields(Approval, r)) for r in rows]

    def revoke(self, plan_hash: str, environment: str, same_person: Callable[[str], bool]) -> int:
        """Revoke the standing approvals of a plan by the person `same_person` recognises (under
        any spelling of their identity); how many there were. Each row is signed again."""
        from dataclasses import replace

        standing = [
            a
            for a in self.approvals(plan_hash, environment=environment)
            if same_person(a.approver) and a.revoked_at is None
        ]
        statements = []
        for approval in standing:
            revoked = replace(approval, revoked_at=now(), revoked_by=redact(actor()))
            signed: dict[str, str | int | None] = {
                "revoked_at": revoked.revoked_at,
                "revoked_by": revoked.revoked_by,
                "digest": revoked.expected_digest(),
            }
            statements.append(self._update("approvals", signed, {"id": approval.id}))
        self.write(statements)
        return len(standing)

    # --- plans ------------------------------------------------------------------------------

    def record_plan(
        self,
        plan_hash: str,
        environment: str,
        target: str,
        migrations: Sequence[tuple[str, str]],
        *,
        planned: bool = False,
    ) -> PlanRecord:
        """Remember a plan. `planned`: `dbfleet plan` made it, so whoever runs this is its
        planner (an author for approver_not_author); a plan first seen through approve or apply
        has no known planner until someone plans it."""
        import json

        who = redact(actor()) if planned else ""
        known = self.plan(plan_hash)
        if known is not None:
            if who and not known.planned_by:
                self.write([self._update("plans", {"planned_by": who}, {"hash": plan_hash})])
                return PlanRecord(**{**vars(known), "planned_by": who})
            return known
        record = PlanRecord(
            plan_hash,
            environment,
            who,
            now(),
            target,
            json.dumps([list(m) for m in migrations]),
        )
        self.write([self._insert("plans", vars(record))])
        return record

    def plan(self, plan_hash: str) -> PlanRecord | None:
        rows = self.conn.records(f"SELECT * FROM plans WHERE hash = {self._literal(plan_hash)}")
        return PlanRecord(**_fields(PlanRecord, rows[0])) if rows else None

    def plans_like(self, prefix: str) -> list[PlanRecord]:
        """Plans whose hash starts with `prefix` (as a user types the short hash: 12 to 64 hex
        digits; anything else matches nothing)."""
        clean = prefix.strip().lower()
        if not (12 <= len(clean) <= 64) or any(c not in "0123456789abcdef" for c in clean):
            return []
        rows = self.conn.records(
            f"SELECT * FROM plans WHERE hash LIKE {self._literal(clean + '%')} ORDER BY hash"
        )
        return [PlanRecord(**_fields(PlanRecord, r)) for r in rows]

    # --- pipeline runs ----------------------------------------------------------------------

    def start_pipeline(self, from_stage: str | None, to_stage: str | None) -> PipelineRun:
        run = PipelineRun(
            new_id(), actor(), now(), None, "running", from_stage, to_stage, None, None
        )
        self.write([self._insert("pipeline_runs", vars(run))])
        return run

    def finish_pipeline(
        self, run_id: str, status: str, *, stopped_at: str | None = None, message: str | None = None
    ) -> None:
        values = {"finished_at": now(), "status": status, "stopped_at": stopped_at}
        self.write([self._update("pipeline_runs", {**values, "message": message}, {"id": run_id})])

    def step_started(self, run_id: str, stage: str, step: str) -> None:
        self.write(
            [
                self._insert(
                    "pipeline_steps",
                    {
                        "run_id": run_id,
                        "stage": stage,
                        "step": step,
                        "status": "running",
                        "started_at": now(),
                    },
                )
            ]
        )

    def step_finished(
        self,
        run_id: str,
        stage: str,
        step: str,
        status: str,
        *,
        duration_ms: int | None,
        exit_code: int | None,
        log_tail: str | None,
    ) -> None:
        self.write(
            [
                self._update(
                    "pipeline_steps",
                    {
                        "status": status,
                        "finished_at": now(),
                        "duration_ms": duration_ms,
                        "exit_code": exit_code,
                        "log_tail": log_tail,
                    },
                    {"run_id": run_id, "stage": stage, "step": step},
                )
            ]
        )

    def pipeline_runs(self, *, limit: int = 10) -> list[PipelineRun]:
        rows = self.conn.records(
            f"SELECT * FROM pipeline_runs ORDER BY started_at DESC, id LIMIT {int(limit)}"
        )
        return [PipelineRun(**_fields(PipelineRun, r)) for r in rows]

    def pipeline_steps(self, run_id: str) -> list[PipelineStep]:
        rows = self.conn.records(
            f"SELECT * FROM pipeline_steps WHERE run_id = {self._literal(run_id)} "
            "ORDER BY started_at, stage, step"
        )
        return [PipelineStep(**_fields(PipelineStep, r)) for r in rows]

    # --- fleet ledger -----------------------------------------------------------------------

    def start_rollout(
        self,
        environment: str,
        action: str,
        target_version: str | None,
        tenants: Sequence[tuple[str, int]],
        *,
        options: str | None = None,
    ) -> Rollout:
        """A new rollout with a pending ledger row per (tenant, wave), in one transaction."""
        rollout = Rollout(
            new_id(), environment, action, target_version, actor(), now(), None, "running", options
        )
        statements = [self._insert("rollouts", vars(rollout))]
        statements += [
            self._insert(
                "fleet_ledger",
                {
                    "rollout_id": rollout.id,
                    "tenant": tenant,
                    "wave": wave,
                    "status": "pending",
                    "attempts": 0,
                },
            )
            for tenant, wave in tenants
        ]
        self.write(statements)
        return rollout

    def set_rollout(self, rollout_id: str, status: str, *, finished: bool = True) -> None:
        values: dict[str, str | int | None] = {"status": status}
        values["finished_at"] = now() if finished else None
        self.write([self._update("rollouts", values, {"id": rollout_id})])

    def tenant_started(self, rollout_id: str, tenant: str, version_before: str | None) -> None:
        self.write(
            [
                f"UPDATE fleet_ledger SET status = 'running', attempts = attempts + 1, "
                f"started_at = {self._literal(now())}, finished_at = NULL, error = NULL, "
                f"version_before = {self._literal(version_before)} "
                f"WHERE rollout_id = {self._literal(rollout_id)} "
                f"AND tenant = {self._literal(tenant)}"
            ]
        )

    def tenant_finished(
        self,
        rollout_id: str,
        tenant: str,
        *,
        status: str,
        version_before: str | None,
        version_after: str | None,
        duration_ms: int,
        applied: int,
        error: str | None = None,
    ) -> None:
        self.write(
            [
                self._update(
                    "fleet_ledger",
                    {
                        "status": status,
                        "version_before": version_before,
                        "version_after": version_after,
                        "finished_at": now(),
                        "duration_ms": duration_ms,
                        "applied": applied,
                        "error": error,
                    },
                    {"rollout_id": rollout_id, "tenant": tenant},
                )
            ]
        )

    def rollouts(self, environment: str, *, limit: int = 20) -> list[Rollout]:
        rows = self.conn.records(
            f"SELECT * FROM rollouts WHERE environment = {self._literal(environment)} "
            f"ORDER BY started_at DESC, id LIMIT {int(limit)}"
        )
        return [Rollout(**_fields(Rollout, r)) for r in rows]

    def rollout(self, rollout_id: str) -> Rollout | None:
        rows = self.conn.records(f"SELECT * FROM rollouts WHERE id = {self._literal(rollout_id)}")
        return Rollout(**_fields(Rollout, rows[0])) if rows else None

    def ledger(self, rollout_id: str) -> list[LedgerRow]:
        rows = self.conn.records(
            f"SELECT * FROM fleet_ledger WHERE rollout_id = {self._literal(rollout_id)} "
            "ORDER BY wave, tenant"
        )
        return [LedgerRow(**_fields(LedgerRow, r)) for r in rows]

    def latest_per_tenant(self, environment: str) -> dict[str, LedgerRow]:
        """Each tenant's most recent finished ledger row in this environment's rollouts."""
        env = self._literal(environment)
        rows = self.conn.records(
            "SELECT l.* FROM fleet_ledger l JOIN rollouts r ON r.id = l.rollout_id "
            "JOIN (SELECT l2.tenant, max(l2.finished_at) AS last FROM fleet_ledger l2 "
            "JOIN rollouts r2 ON r2.id = l2.rollout_id "
            f"WHERE r2.environment = {env} AND l2.finished_at IS NOT NULL GROUP BY l2.tenant) m "
            "ON m.tenant = l.tenant AND m.last = l.finished_at "
            f"WHERE r.environment = {env} ORDER BY l.finished_at"
        )
        latest: dict[str, LedgerRow] = {}
        for r in rows:
            latest[r["tenant"]] = LedgerRow(**_fields(LedgerRow, r))
        return latest


def _fields(kind: type, record: Mapping[str, Any]) -> dict[str, Any]:
    names = kind.__dataclass_fields__  # type: ignore[attr-defined]
    return {k: record[k] for k in names}


@contextmanager
def open_store(project: Project) -> Iterator[StateStore]:
    store = StateStore.open(project)
    try:
        yield store
    finally:
        store.close()
