"""`fleet drift`: a catalog fingerprint per tenant against the template's; a diff for mismatches.

The detailed diff is a unified diff of the rendered DDL until the diff engine lands.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dbfleet.errors import DbfleetError
from dbfleet.fleet.registry import TEMPLATE, Tenant
from dbfleet.fleet.settings import FleetSettings
from dbfleet.schema.model import Model
from dbfleet.secrets import redact


@dataclass(frozen=True)
class TenantDrift:
    tenant: str
    fingerprint: str | None
    matches: bool
    diff: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class FleetDrift:
    template: str
    tenants: tuple[TenantDrift, ...]


def _model(tenant: Tenant) -> Model:
    from dbfleet.schema.sources import inspect_url

    return inspect_url(tenant.url)


def fingerprint(model: Model) -> str:
    from dbfleet.schema.serialize import to_json

    return hashlib.sha256(to_json(model).encode()).hexdigest()


def compare_fleet(settings: FleetSettings, tenants: Sequence[Tenant]) -> FleetDrift:
    if settings.mode == "schema":
        raise DbfleetError(
            "fleet drift compares tenant databases; schema-mode fleets are not supported yet",
            hint="compare a tenant's schema with `dbfleet inspect` meanwhile",
        )
    template = _model(Tenant(TEMPLATE, settings.template_url))
    template_print = fingerprint(template)

    def one(tenant: Tenant) -> TenantDrift:
        try:
            model = _model(tenant)
        except Exception as exc:
            message = (
                exc.message if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
            )
            return TenantDrift(tenant.id, None, False, error=redact(message))
        found = fingerprint(model)
        if found == template_print:
            return TenantDrift(tenant.id, found, True)
        from dbfleet.engines import render

        diff = "".join(
            difflib.unified_diff(
                render(template).splitlines(keepends=True),
                render(model).splitlines(keepends=True),
                fromfile=TEMPLATE,
                tofile=tenant.id,
            )
        )
        return TenantDrift(
            tenant.id,
            found,
            False,
            diff or "(the models differ in attributes the DDL does not show)",
        )

    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        results = tuple(pool.map(one, tenants))
    return FleetDrift(template_print, results)
