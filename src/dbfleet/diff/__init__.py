"""Schema diff: the changes, in a safe order, that turn one schema model into another."""

from __future__ import annotations

from importlib import import_module

from dbfleet.diff.change import Change, Diff, Hazard, Options, Step
from dbfleet.diff.order import order_changes
from dbfleet.errors import DbfleetError
from dbfleet.schema.model import Model

__all__ = ["Change", "Diff", "Hazard", "Options", "Step", "diff"]

_ALTER = {
    "postgresql": "dbfleet.engines.postgres.alter",
    "sqlite": "dbfleet.engines.sqlite.alter",
    "mysql": "dbfleet.engines.mysql.alter",
}


def diff(a: Model, b: Model, options: Options | None = None) -> Diff:
    """The changes that turn `a` into `b` (both models of the same engine), ordered."""
    options = options or Options()
    if a.engine != b.engine:
        raise DbfleetError(
            f"cannot compare a {a.engine} schema with a {b.engine} schema",
            hint="both sources must be of the same engine",
        )
    engine = import_module(_ALTER[a.engine])
    changes, before, after = engine.plan(a, b, options)
    ordered = order_changes(changes, before, after)
    prologue = tuple(engine.prologue(options)) if ordered else ()
    return Diff(engine=a.engine, changes=tuple(ordered), prologue=prologue)
