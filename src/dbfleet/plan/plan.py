"""A plan: exactly what `migrate` would run on one target, what it changes and risks, and a hash
over what will run and the state of the target, so that `apply` runs that and nothing else."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbfleet.config import Environment, Project
from dbfleet.diff import Diff, diff
from dbfleet.errors import DbfleetError
from dbfleet.plan.drift import live_schema
from dbfleet.schema.model import Model

FORMAT = 3  # 2: the project's name is in the plan and its hash; 3: the target's URL too


@dataclass(frozen=True)
class Fingerprint:
    """The state of a target a plan was made against: its history head and its schema."""

    head: str | None
    schema_sha256: str

    def to_data(self) -> dict[str, Any]:
        return {"head": self.head, "schema_sha256": self.schema_sha256}


@dataclass(frozen=True)
class Plan:
    project: str  # the project's name ([project] name, else its folder's)
    environment: str
    target: str  # the target's URL as shown (no password)
    fingerprint: Fingerprint
    migrations: tuple[tuple[str, str], ...]  # (script, checksum) in the order they run
    sql: str  # the exact script `migrate` would send, history writes included
    statements: tuple[str, ...]  # the migrations' own statements, placeholders filled
    changes: Diff  # the schema change the migrations make
    drift: tuple[dict[str, str], ...]  # differences of the target from its applied migrations
    # Lint findings in the pending migrations (not suppressed), with the target's table sizes.
    lint: tuple[dict[str, Any], ...] = ()

    @property
    def hash(self) -> str:
        """sha256 over what will run and the target's fingerprint: not over when the plan was
        made or who made it, so planning an unchanged target again gives the same hash."""
        return _digest(
            self.project,
            self.environment,
            self.target,
            self.fingerprint.to_data(),
            [list(m) for m in self.migrations],
            list(self.statements),
        )

    def to_data(self) -> dict[str, Any]:
        from dbfleet.diff.script import to_data

        return {
            "format": FORMAT,
            "hash": self.hash,
            "project": self.project,
            "environment": self.environment,
            "target": self.target,
            "fingerprint": self.fingerprint.to_data(),
            "migrations": [{"script": s, "checksum": c} for s, c in self.migrations],
            "sql": self.sql,
            "statements": list(self.statements),
            "changes": to_data(self.changes),
            "drift": list(self.drift),
            "lint": list(self.lint),
        }


def fingerprint(project: Project, env: Environment) -> tuple[Fingerprint, Model]:
    """The target's history head and a hash of its inspected schema (history table left out)."""
    from dbfleet.migrate.commands import status
    from dbfleet.schema.serialize import to_json

    state = status(project, env)
    live = live_schema(project, env)
    schema_hash = hashlib.sha256(to_json(live).encode("utf-8")).hexdigest()
    head = str(state.head) if state.head is not None else None
    return Fingerprint(head, schema_hash), live


def make_plan(
    project: Project, env: Environment, *, check_drift: bool = True, lint: bool = True
) -> Plan:
    """Plan `migrate` on `env`: the SQL it would run and the schema change it makes, found by
    replaying that SQL on a scratch copy of the live schema."""
    from dbfleet.migrate.commands import migrate
    from dbfleet.plan.drift import detect_drift

    prints, live = fingerprint(project, env)
    dry = migrate(project, env, dry_run=True)
    after = _replayed(project, env, live, dry.statements) if dry.units else live
    drift: tuple[dict[str, str], ...] = ()
    if check_drift:
        report = detect_drift(project, env, actual=live)  # inspected once, for both
        drift = tuple(d.to_data() for d in report.differences())
    findings = _lint(project, env, [script for script, _ in dry.units]) if lint else ()
    return Plan(
        project=project.name,
        environment=env.name,
        target=env.url.display,
        fingerprint=prints,
        migrations=tuple(dry.units),
        sql=(dry.sql or "") if dry.units else "",
        statements=tuple(dry.statements),
        # What the migrations do; how their statements lock and rewrite is lint's part.
        changes=diff(live, after).what_it_does(),
        drift=drift,
        lint=findings,
    )


def _lint(project: Project, env: Environment, scripts: list[str]) -> tuple[dict[str, Any], ...]:
    """What `dbfleet lint --env` says about the pending migrations (and only those)."""
    if not scripts:
        return ()
    from pathlib import PurePosixPath

    from dbfleet.lint.run import Options
    from dbfleet.lint.run import lint as run_lint

    result = run_lint(project, Options(env=env.name))
    pending = set(scripts)

    def planned(path: str) -> bool:
        shown = PurePosixPath(path.replace("\\", "/"))
        return any(
            shown.parts[-len(PurePosixPath(s).parts) :] == PurePosixPath(s).parts for s in pending
        )

    return tuple(
        {
            "code": f.code,
            "rule": f.name,
            "severity": f.severity.value,
            "message": f.message,
            "file": f.path,
            "line": f.line,
            "column": f.column,
            "help": f.help,
        }
        for f in result.active
        if planned(f.path)
    )


def _replayed(project: Project, env: Environment, live: Model, statements: list[str]) -> Model:
    """`live` rendered on a scratch database, then the migrations' own statements run there.

    Only the statements: the dry-run script also writes the history table, which it names
    the target's way (on MariaDB with the target's database), and must never reach it."""
    from dbfleet.schema.scratch import ReplayFailed, replayed

    try:
        return replayed(project, live, statements)
    except ReplayFailed as exc:
        raise DbfleetError(
            f"the pending migrations fail on a copy of {env.name}'s schema: {exc.message}",
            hint="fix the migration (dbfleet lint and dbfleet test help), then plan again",
        ) from None


def load_plan(text: str, source: str) -> dict[str, Any]:
    """A plan file's data, with its hash checked against its content."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DbfleetError(f"{source} is not a plan file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DbfleetError(
            f"{source} is not a dbfleet plan (format {FORMAT})", hint="make one with dbfleet plan"
        )
    try:
        digest = _digest(
            data["project"],
            data["environment"],
            data["target"],
            data["fingerprint"],
            [[m["script"], m["checksum"]] for m in data["migrations"]],
            list(data["statements"]),
        )
    except (KeyError, TypeError):
        digest = None
    if digest != data.get("hash"):
        raise DbfleetError(
            f"{source} was changed after it was made (its hash does not match its content)",
            hint="make a new plan; never edit a plan file",
        )
    return data


def _digest(
    project: Any,
    environment: Any,
    target: Any,
    fingerprint: Any,
    migrations: Any,
    statements: Any,
) -> str:
    core = {
        "format": FORMAT,
        "project": project,
        "target": target,
        "environment": environment,
        "fingerprint": fingerprint,
        "migrations": migrations,
        "statements": statements,
    }
    text = json.dumps(core, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Planned:
    """A plan file read back and checked against the project, the target and the files now."""

    hash: str
    environment: Environment
    migrations: list[tuple[str, str]]  # (script, checksum) in the order they run


def read_plan(project: Project, path: Path) -> Planned:
    """The plan in `path`, if it is intact, of this project, and still what `migrate` would do:
    the target's history and schema as planned and the migration files unchanged."""
    from dbfleet.migrate.commands import migrate

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DbfleetError(f"--plan {path}: cannot be read ({exc})") from None
    data = load_plan(text, str(path))
    short = str(data["hash"])[:12]
    if data["project"] != project.name:
        raise DbfleetError(
            f"{path} is a plan of project {data['project']!r}, not of {project.name!r}",
            hint="use it from that project's folder, or make a plan here",
        )
    environment = project.environment(str(data["environment"]))
    if environment.url.display != data["target"]:
        # The environment's URL was overridden (--url, DBFLEET_URL) or its config changed: a
        # plan runs only on the database it was made for.
        raise DbfleetError(
            f"{path} was made for {data['target']}, but {environment.name} is now "
            f"{environment.url.display}",
            hint="unset DBFLEET_URL, or make a plan for this target",
        )
    now, _ = fingerprint(project, environment)
    planned: dict[str, Any] = data["fingerprint"]
    if now.to_data() != planned:
        what = (
            f"its history moved from {planned['head']} to {now.head}"
            if now.head != planned["head"]
            else "its schema changed"
        )
        raise DbfleetError(
            f"{environment.name} changed since plan {short} was made: {what}",
            hint="make a new plan and review it",
        )
    expected = [(str(m["script"]), str(m["checksum"])) for m in data["migrations"]]
    if migrate(project, environment, dry_run=True).units != expected:
        raise DbfleetError(
            f"the migration files changed since plan {short} was made",
            hint="make a new plan and review it",
        )
    return Planned(str(data["hash"]), environment, expected)
