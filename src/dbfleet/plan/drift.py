"""Drift: the live schema of a target against the schema its applied migrations produce."""

from __future__ import annotations

from dataclasses import dataclass

from dbfleet.config import Environment, Project
from dbfleet.diff import Diff, Options, diff
from dbfleet.diff.change import table_delta
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import Model

# How each kind of change from expected to actual reads as drift.
_WHAT = {
    "create": "added outside the migrations",
    "drop": "missing (the migrations create it)",
    "alter": "changed outside the migrations",
}


@dataclass(frozen=True)
class Difference:
    name: str  # the object, e.g. "public.invoices.amount"
    kind: str
    what: str
    expected: object | None
    actual: object | None

    def to_data(self) -> dict[str, str]:
        return {"object": self.name, "kind": self.kind, "what": self.what}


@dataclass(frozen=True)
class DriftReport:
    environment: str
    version: str | None  # the applied version the expected schema was replayed to
    found: Diff  # expected -> actual: what was done outside the migrations
    fix: Diff  # actual -> expected: what brings the target back

    @property
    def drifted(self) -> bool:
        return bool(self.found)

    def differences(self) -> list[Difference]:
        return [
            Difference(
                c.name, c.kind, _WHAT[c.action] + details(c.before, c.after), c.before, c.after
            )
            for c in self.found.changes
        ]


def details(expected: object, actual: object) -> str:
    """For a table changed out of band: which columns, constraints and indexes differ."""
    parts = table_delta(expected, actual)
    return f" ({'; '.join(parts)})" if parts else ""


def live_schema(project: Project, env: Environment, *, include_history: bool = False) -> Model:
    """The target's schema; an SQLite file `migrate` has not created yet is an empty one."""
    from dbfleet.schema.sources import Source, load_model

    if env.url.file_missing():
        return Model(engine=env.url.engine)
    return load_model(Source("env", env.name), project, include_history=include_history)


def expected_schema(project: Project, env: Environment, version: str | None) -> Model:
    """What the migrations produce up to `version`, replayed on a scratch database with the
    environment's own placeholders."""
    from dbfleet.engines import connect, inspect
    from dbfleet.migrate.commands import migrate
    from dbfleet.migrate.files import Version
    from dbfleet.schema.scratch import scratch_database
    from dbfleet.schema.select import select

    with scratch_database(project, env.url.engine) as url:
        scratch = Environment(
            name=f"{env.name} (replayed)",
            url=url,
            placeholders=env.placeholders,
            history_schema=None,
            history_table=env.history_table,
        )
        if version is not None:
            migrate(project, scratch, target_version=Version.parse(version))
        with connect(url) as conn:
            return select(inspect(conn), hide=[(None, env.history_table)])


def detect_drift(
    project: Project,
    env: Environment,
    options: Options | None = None,
    *,
    actual: Model | None = None,
) -> DriftReport:
    """Compare `env`'s live schema (`actual`, when the caller has inspected it already) with
    the one its applied migrations produce."""
    from dbfleet.migrate.commands import status
    from dbfleet.migrate.state import State

    state = status(project, env)
    if state.baseline is not None:
        raise DbfleetError(
            f"{env.name} was baselined at version {state.baseline}: the migrations cannot "
            "replay what it held before",
            hint="compare it with a saved model instead: dbfleet diff file:model.json env:"
            + env.name,
        )
    failed = [e for e in state.entries if e.state is State.FAILED]
    if failed:
        raise DbfleetError(
            f"{env.name} has a failed migration ({failed[0].script}): its schema is between "
            "versions",
            hint="fix it and run `dbfleet repair`, then check drift again",
        )
    head = str(state.head) if state.head is not None else None
    if actual is None:
        actual = live_schema(project, env)
    expected = expected_schema(project, env, head)
    options = options or Options()
    return DriftReport(
        environment=env.name,
        version=head,
        found=diff(expected, actual, options),
        fix=diff(actual, expected, options),
    )
