"""The undo check: is each U script the true inverse of its V script?

In a scratch database: migrate one version at a time to head, inspecting the schema after each;
then undo one version at a time (as `dbfleet undo` does), comparing each result with the schema
before that version; then migrate again one version at a time, and compare the schema at head
with the one of the first time.
Objects that repeatable migrations create (views, routines) are never undone by dbfleet: they
are left out of the comparisons below head.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from dbfleet.config import Environment, Project
from dbfleet.errors import DbfleetError, MigrationFailed
from dbfleet.migrate.files import Kind, MigrationSet, Version
from dbfleet.schema.model import Model
from dbfleet.sqltest.outcome import Outcome, Status

_TOP = ("schemas", "extensions", "types", "sequences", "tables", "views", "routines", "events")
_NESTED = ("indexes", "triggers", "policies")


@dataclass
class _Check:
    """What the walk found about one version."""

    version: Version
    label: str  # the V script
    undo: str  # the U script (or "" when there is none)
    file: str
    problems: list[tuple[Status, str, str]] = field(default_factory=list)  # status, message, diff
    skipped: str | None = None
    undone: bool = False
    seconds: float = 0.0


def check_undo(
    project: Project,
    env: Environment,
    files: MigrationSet,
    *,
    to: Version | None = None,
    require_undo: bool = False,
    relative: Callable[[Any], str] = str,
) -> list[Outcome]:
    """Run the walk in the (empty, scratch) database of `env`; one Outcome per version."""
    from dbfleet.migrate.commands import migrate, undo

    versions = sorted(
        m.version
        for m in files.versioned
        if m.version is not None and (to is None or m.version <= to)
    )
    if not versions:
        return []
    checks = []
    for v in versions:
        migration = files.versioned_by(v)
        assert migration is not None
        script = files.undo.get(v)
        checks.append(
            _Check(
                v,
                migration.script,
                script.script if script else "",
                relative(script.path if script else migration.path),
            )
        )

    def snapshot() -> Model:
        return _inspect(env)

    # Up, one version at a time: the schema after each (before[i] is the one before versions[i]).
    before: list[Model] = [snapshot()]
    for i, v in enumerate(versions):
        started = time.perf_counter()
        try:
            _apply_versioned(project, env, files, v)
        except MigrationFailed as exc:
            checks[i].problems.append(("error", f"{checks[i].label} fails: {exc}", ""))
            return [_outcome(c) for c in checks[: i + 1]]
        checks[i].seconds += time.perf_counter() - started
        before.append(snapshot())
    migrate(project, env, target_version=to)  # repeatables, exactly as `migrate` runs them
    head = snapshot()
    extras = _keys(head) - _keys(before[-1])
    # What a wrong undo left behind is reported once, at its version, not again at each below.
    residue: set[tuple[Any, ...]] = set()

    def compare(expected: Model, actual: Model, labels: tuple[str, str], fix: str) -> str:
        expected, actual = _without(expected, residue), _without(actual, residue)
        difference = _compare(expected, actual, labels, fix)
        if difference:
            residue.update(_residue(expected, actual))
        return difference

    # Down, as `dbfleet undo` does it, one version at a time.
    lowest = len(versions)
    failed = False
    for i in reversed(range(len(versions))):
        check = checks[i]
        if versions[i] not in files.undo:
            check.skipped = f"no undo script U{versions[i]}: not checkable"
            if require_undo:
                check.problems.append(
                    ("failed", f"{check.label} has no undo script (--require-undo)", "")
                )
            for lower in checks[:i]:
                lower.skipped = f"not checked: undoing stops at {check.label}, which has none"
            break
        started = time.perf_counter()
        try:
            undo(project, env)
        except DbfleetError as exc:
            check.problems.append(("failed", f"{check.undo} failed: {exc}", _about(extras)))
            for lower in checks[:i]:
                lower.skipped = f"not checked: the undo of {check.label} failed"
            failed = True
            break
        check.undone = True
        lowest = i
        difference = compare(
            _without(before[i], extras),
            _without(snapshot(), extras),
            (f"schema before {check.label}", f"after {check.undo}"),
            f"to restore it, {check.undo} would also have to run (dbfleet diff):",
        )
        if difference:
            problem = f"{check.undo} does not restore the schema before {check.label}"
            check.problems.append(("failed", problem, difference))
        check.seconds += time.perf_counter() - started

    # Up again, one version at a time (a version that no longer applies is named), then the
    # schema at head must be the one of the first time. The walk down compared every step
    # already: inspecting again at each step would double the cost for little more.
    if not failed:
        for i in range(lowest, len(versions)):
            check = checks[i]
            started = time.perf_counter()
            try:
                if i == len(versions) - 1:
                    migrate(project, env, target_version=to)
                else:
                    _apply_versioned(project, env, files, versions[i])
            except DbfleetError as exc:
                check.problems.append(
                    ("failed", f"{check.label} fails when migrated again: {exc}", "")
                )
                break
            check.seconds += time.perf_counter() - started
        else:
            top = checks[-1]
            difference = compare(
                head,
                snapshot(),
                ("schema at head", "after undo and migrate again"),
                "to get the first schema back, it would take (dbfleet diff):",
            )
            if difference:
                problem = (
                    f"undoing down to {checks[lowest].label} and migrating again gives "
                    "another schema at head than the first time"
                )
                top.problems.append(("failed", problem, difference))
    return [_outcome(c) for c in checks]


def _about(extras: set[tuple[Any, ...]]) -> str:
    """Why an undo script may fail that works right after its migration: repeatables."""
    names = ", ".join(sorted({key[1][1] for key in extras if key[0] in _TOP}))
    if not names:
        return ""
    return (
        f"dbfleet never undoes repeatable migrations (R__*.sql): their objects ({names}) are "
        "still there when U scripts run; drop them first in the U script if they depend on "
        "what it removes"
    )


def _outcome(check: _Check) -> Outcome:
    name = f"undo {check.label}"
    common: dict[str, Any] = {
        "name": name,
        "file": check.file,
        "line": 0,
        "kind": "undo",
        "seconds": check.seconds,
    }
    if check.problems:
        status, message, first = check.problems[0]
        rest = [f"{m}\n{d}".rstrip() for _, m, d in check.problems[1:]]
        details = "\n\n".join([first, *rest]).strip()
        return Outcome(**common, status=status, message=message, details=details)
    if check.skipped or not check.undone:
        return Outcome(**common, status="skipped", message=check.skipped or "not checked")
    return Outcome(**common, status="passed")


def _apply_versioned(project: Project, env: Environment, files: MigrationSet, to: Version) -> None:
    """Apply the pending versioned migrations up to `to`, without repeatables."""
    from dbfleet.migrate.runner import MIGRATE, Runner
    from dbfleet.migrate.target import open_target

    with open_target(project, env) as target, target.locked():
        target.ensure_history()
        state = target.state(files)
        entries = [e for e in state.pending(target=to) if e.kind is Kind.VERSIONED]
        runner = Runner(
            target,
            files,
            dict(env.placeholders),
            environment=env.name,
            placeholder_replacement=project.placeholder_replacement,
        )
        runner.run(runner.prepare(entries, MIGRATE))


def _inspect(env: Environment) -> Model:
    from dbfleet.engines import connect, inspect
    from dbfleet.schema.select import select

    with connect(env.url) as conn:
        model = inspect(conn)
    return select(model, hide=[(None, env.history_table)])


# --- comparing ----------------------------------------------------------------------------------


def _ident(obj: Any) -> tuple[str, ...]:
    return (getattr(obj, "schema", ""), obj.name, getattr(obj, "signature", ""))


def _keys(model: Model) -> set[tuple[Any, ...]]:
    keys: set[tuple[Any, ...]] = set()
    for category in _TOP:
        keys.update((category, _ident(o)) for o in getattr(model, category))
    for table in model.tables:
        for nested in _NESTED:
            keys.update(
                (nested, (table.schema, table.name), o.name) for o in getattr(table, nested)
            )
    return keys


def _without(model: Model, keys: set[tuple[Any, ...]]) -> Model:
    """`model` without the objects named in `keys` (as `_keys` names them)."""
    if not keys:
        return model
    changes: dict[str, Any] = {
        category: tuple(o for o in getattr(model, category) if (category, _ident(o)) not in keys)
        for category in _TOP
    }
    changes["tables"] = tuple(
        replace(
            table,
            **{
                nested: tuple(
                    o
                    for o in getattr(table, nested)
                    if (nested, (table.schema, table.name), o.name) not in keys
                )
                for nested in _NESTED
            },
        )
        for table in changes["tables"]
    )
    return replace(model, **changes)


def _compare(expected: Model, actual: Model, labels: tuple[str, str], fix: str) -> str:
    """'' when equal; else what differs: the statements that would take `actual` to
    `expected` (from the diff engine, headed by `fix`), then a unified diff of the DDL."""
    if expected == actual:
        return ""
    from dbfleet.engines import render

    parts = []
    statements = _fixing_statements(actual, expected)
    if statements:
        parts += [fix, *("  " + line for line in statements)]
    ddl = "\n".join(
        difflib.unified_diff(
            render(expected).splitlines(), render(actual).splitlines(), *labels, lineterm=""
        )
    )
    if ddl:
        parts.append(ddl)
    if not parts:  # differences that neither shows (e.g. an attribute the DDL leaves out)
        changed = sorted(str(k) for k in _symmetric(_objects(expected), _objects(actual)))
        parts.append("the schemas differ in details their DDL does not show: " + ", ".join(changed))
    return "\n".join(parts)


def _fixing_statements(actual: Model, expected: Model) -> list[str]:
    """The diff engine's statements from `actual` to `expected` (none when it cannot tell)."""
    from dbfleet.diff import diff

    try:
        changes = diff(actual, expected)
    except DbfleetError:
        return []
    return [line for sql in changes.statements() for line in str(sql).splitlines()]


def _residue(expected: Model, actual: Model) -> set[tuple[Any, ...]]:
    """Keys of the objects in which two models differ (nested ones apart from their table)."""
    nested = _keys(expected) ^ _keys(actual)
    expected, actual = _without(expected, nested), _without(actual, nested)
    return nested | set(_symmetric(_objects(expected), _objects(actual)))


def _objects(model: Model) -> dict[tuple[Any, ...], Any]:
    return {(c, _ident(o)): o for c in _TOP for o in getattr(model, c)}


def _symmetric(a: dict[Any, Any], b: dict[Any, Any]) -> Iterable[Any]:
    return [k for k in a.keys() | b.keys() if a.get(k) != b.get(k)]
