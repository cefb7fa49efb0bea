"""Narrow a model to what a command is about: schemas, exclusion globs, the history table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from dbfleet.schema.model import Model


def select(
    model: Model,
    *,
    schemas: Sequence[str] = (),
    exclude: Sequence[str] = (),
    hide: Sequence[tuple[str | None, str]] = (),
    privileges: bool = False,
    owners: bool = False,
) -> Model:
    """Keep objects in `schemas` (all when empty) whose "schema.name" matches no `exclude` glob.

    `hide` lists (schema, table) pairs that are never shown, such as the history table; a
    schema of None matches any schema.
    """

    def keep(schema: str, name: str) -> bool:
        if schemas and schema not in schemas:
            return False
        if any((s is None or s == schema) and t == name for s, t in hide):
            return False
        return not any(fnmatchcase(f"{schema}.{name}", p) or fnmatchcase(name, p) for p in exclude)

    return replace(
        model,
        schemas=tuple(s for s in model.schemas if not schemas or s.name in schemas),
        extensions=tuple(e for e in model.extensions if not schemas or e.schema in schemas),
        types=tuple(t for t in model.types if keep(t.schema, t.name)),
        sequences=tuple(s for s in model.sequences if keep(s.schema, s.name)),
        tables=tuple(t for t in model.tables if keep(t.schema, t.name)),
        views=tuple(v for v in model.views if keep(v.schema, v.name)),
        routines=tuple(r for r in model.routines if keep(r.schema, r.name)),
        events=tuple(e for e in model.events if keep(e.schema, e.name)),
        # Privileges and owners differ between environments more often than not: they are
        # part of the model only when asked for.
        grants=tuple(g for g in model.grants if keep(g.schema, g.name)) if privileges else (),
        owners=tuple(o for o in model.owners if keep(o.schema, o.name)) if owners else (),
    )
