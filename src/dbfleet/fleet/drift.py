"""`fleet drift`: a catalog fingerprint per tenant against the template's; for a mismatch,
the diff engine's differences (kind, object, what) and the SQL that brings the tenant back.

Database mode: each tenant database's model against the template database's, without the
history table (nor privileges and owners, which differ between databases by design).

Schema mode (PostgreSQL): each tenant's schema against the template's schema. Each database
is inspected once, then narrowed to one schema, which is renamed to a neutral name
(`dbfleet.schema.rename`) so identical tenants fingerprint alike; the history table is left
out. The differences and the SQL are those between the tenant's schema and the template's
renamed to the tenant's schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dbfleet.errors import DbfleetError
from dbfleet.fleet.registry import TEMPLATE, Tenant
from dbfleet.fleet.settings import FleetSettings
from dbfleet.schema.model import Model
from dbfleet.secrets import redact

# How each change from the template to a tenant reads as drift.
_WHAT = {
    "create": "only in the tenant",
    "drop": "missing (the template has it)",
    "alter": "differs from the template",
}


@dataclass(frozen=True)
class Difference:
    """One object in which a tenant differs from the template."""

    kind: str
    name: str  # e.g. "public.invoices.amount"
    what: str

    def to_data(self) -> dict[str, str]:
        return {"kind": self.kind, "object": self.name, "what": self.what}


@dataclass(frozen=True)
class TenantDrift:
    tenant: str
    fingerprint: str | None
    matches: bool
    differences: tuple[Difference, ...] = ()
    fix_sql: str | None = None  # the diff engine's SQL from the tenant back to the template
    error: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "fingerprint": self.fingerprint,
            "matches": self.matches,
            "error": self.error,
            "differences": [d.to_data() for d in self.differences],
            "fix_sql": self.fix_sql,
        }


@dataclass(frozen=True)
class FleetDrift:
    template: str
    tenants: tuple[TenantDrift, ...]


def _model(tenant: Tenant, history_table: str) -> Model:
    from dbfleet.schema.select import select
    from dbfleet.schema.sources import inspect_url

    return select(inspect_url(tenant.url), hide=((None, history_table),))


def fingerprint(model: Model) -> str:
    from dbfleet.schema.serialize import to_json

    return hashlib.sha256(to_json(model).encode()).hexdigest()


def _failure(exc: Exception) -> str:
    message = exc.message if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
    return redact(message)


def compare_fleet(
    settings: FleetSettings,
    tenants: Sequence[Tenant],
    *,
    history_table: str = "dbfleet_schema_history",
) -> FleetDrift:
    if settings.mode == "schema":
        return compare_schemas(settings, tenants, history_table)
    template = _model(Tenant(TEMPLATE, settings.template_url), history_table)
    template_print = fingerprint(template)

    def one(tenant: Tenant) -> TenantDrift:
        try:
            model = _model(tenant, history_table)
        except Exception as exc:
            return TenantDrift(tenant.id, None, False, error=_failure(exc))
        found = fingerprint(model)
        if found == template_print:
            return TenantDrift(tenant.id, found, True)
        return _drifted(tenant.id, found, template, model)

    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        results = tuple(pool.map(one, tenants))
    return FleetDrift(template_print, results)


# --- schema mode ---------------------------------------------------------------------------------

NEUTRAL = "tenant_schema"  # the name every compared schema gets before fingerprinting


@dataclass(frozen=True)
class _Database:
    """One inspected database: its whole model and its default schema (or why not)."""

    model: Model | None
    default_schema: str | None
    error: str | None = None


def _inspect_database(tenant: Tenant) -> _Database:
    from dbfleet.engines import connect, inspect

    try:
        with connect(tenant.url, create=False) as conn:
            return _Database(inspect(conn), conn.default_schema())
    except Exception as exc:
        return _Database(None, None, _failure(exc))


def schema_of(database: Model, schema: str, history_table: str) -> Model:
    """One schema of an inspected database, without dbfleet's history table."""
    from dbfleet.schema.select import select

    return select(database, schemas=(schema,), hide=((schema, history_table),))


def compare_schemas(
    settings: FleetSettings, tenants: Sequence[Tenant], history_table: str
) -> FleetDrift:
    """Each tenant's schema against the template's schema (see the module's notes)."""
    from dbfleet.schema.rename import rename_schema

    template = Tenant(TEMPLATE, settings.template_url, schema=settings.template_schema)
    everyone = [template, *tenants]
    firsts: dict[str, Tenant] = {}
    for t in everyone:
        firsts.setdefault(t.url.full, t)
    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        databases = dict(zip(firsts, pool.map(_inspect_database, firsts.values()), strict=True))

    def schema_name(t: Tenant) -> str | None:
        return t.schema or databases[t.url.full].default_schema

    def narrowed(t: Tenant) -> Model:
        database = databases[t.url.full]
        name = schema_name(t)
        if database.model is None or name is None:
            raise DbfleetError(f"cannot inspect {t.url.display}: {database.error}")
        if all(s.name != name for s in database.model.schemas):
            raise DbfleetError(f"schema {name} does not exist in {t.url.display}")
        return schema_of(database.model, name, history_table)

    template_model = narrowed(template)  # the template unreadable: the command's error
    template_name = schema_name(template)
    assert template_name is not None
    template_print = fingerprint(rename_schema(template_model, template_name, NEUTRAL))

    def one(tenant: Tenant) -> TenantDrift:
        try:
            model = narrowed(tenant)
        except Exception as exc:
            return TenantDrift(tenant.id, None, False, error=_failure(exc))
        name = schema_name(tenant)
        assert name is not None
        found = fingerprint(rename_schema(model, name, NEUTRAL))
        if found == template_print:
            return TenantDrift(tenant.id, found, True)
        return _drifted(tenant.id, found, rename_schema(template_model, template_name, name), model)

    return FleetDrift(template_print, tuple(one(t) for t in tenants))


def _drifted(tenant: str, found: str, template: Model, model: Model) -> TenantDrift:
    """A mismatch explained by the diff engine: what differs, and the SQL back to `template`."""
    from dbfleet.diff import diff
    from dbfleet.diff.script import render_sql
    from dbfleet.plan.drift import details

    try:
        differs = diff(template, model)
        back = diff(model, template)
    except DbfleetError as exc:
        what = f"differs from the template, but the diff engine cannot say how: {exc.message}"
        return TenantDrift(tenant, found, False, (Difference("schema", "-", what),))
    if not differs:
        what = "differs from the template in attributes the diff does not show"
        return TenantDrift(tenant, found, False, (Difference("schema", "-", what),))
    differences = tuple(
        Difference(c.kind, c.name, _WHAT[c.action] + details(c.before, c.after))
        for c in differs.changes
    )
    fix = render_sql(back, title=f"to bring {tenant} back to the template") if back else None
    return TenantDrift(tenant, found, False, differences, fix)
