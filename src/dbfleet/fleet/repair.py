"""`fleet repair`: the single-database `dbfleet repair` on the template and chosen tenants.

A failed migration that could not roll back (MariaDB DDL, a non-transactional PostgreSQL
script) leaves a failed row in the tenant's history; `migrate` refuses to run until it is
removed. This runs `dbfleet.migrate.commands.repair` on each chosen database, exactly as
`dbfleet repair --url ...` would, and says per database what it changed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.fleet.registry import TEMPLATE, Tenant, select_tenants
from dbfleet.fleet.tenant import tenant_environment
from dbfleet.secrets import redact

if TYPE_CHECKING:
    from dbfleet.config import Environment, Project
    from dbfleet.state.store import LedgerRow


@dataclass(frozen=True)
class Repaired:
    """What repair did on one database (changes), or why it could not (error)."""

    tenant: str
    changes: tuple[str, ...]
    duration_ms: int
    error: str | None = None


def choose(
    template: Tenant,
    tenants: Sequence[Tenant],
    ledger: Mapping[str, LedgerRow],
    *,
    ids: Sequence[str] = (),
    failed: bool = False,
    include_template: bool = False,
) -> list[Tenant]:
    """The databases to repair: the named tenants (and the template when asked), plus, with
    `failed` or when nothing is named, every database whose last ledger status is failed."""
    chosen: dict[str, Tenant] = {}
    if include_template:
        chosen[TEMPLATE] = template
    for tenant in select_tenants(tenants, ids=ids) if ids else ():
        chosen[tenant.id] = tenant
    if failed or not (ids or include_template):
        last = ledger.get(TEMPLATE)
        if last is not None and last.status == "failed":
            chosen.setdefault(TEMPLATE, template)
        for tenant in tenants:
            row = ledger.get(tenant.id)
            if row is not None and row.status == "failed":
                chosen.setdefault(tenant.id, tenant)
    order = [template, *tenants]
    return [t for t in order if t.id in chosen]


def repair_one(project: Project, env: Environment, tenant: Tenant) -> Repaired:
    """`dbfleet repair` on one database; never raises for the database's own problems."""
    from dbfleet.migrate.commands import repair

    started = time.perf_counter()
    try:
        result = repair(project, tenant_environment(env, tenant))
    except Exception as exc:
        message = exc.message if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
        return Repaired(tenant.id, (), _ms(started), redact(message))
    changes = tuple(m for m in result.messages if m != "nothing to repair")
    return Repaired(tenant.id, changes, _ms(started))


def repair_fleet(
    project: Project, env: Environment, chosen: Sequence[Tenant], concurrency: int
) -> list[Repaired]:
    """Repair each chosen database (the template first, alone), in the order given."""
    if not chosen:
        return []
    results: list[Repaired] = []
    rest = list(chosen)
    if rest[0].id == TEMPLATE:
        results.append(repair_one(project, env, rest.pop(0)))
    with ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
        results += pool.map(lambda t: repair_one(project, env, t), rest)
    return results


def check_ids(ids: Sequence[str], tenants: Sequence[Tenant]) -> None:
    """--tenant names enabled tenants only (one clear line otherwise)."""
    known = {t.id for t in tenants}
    missing = [i for i in ids if i not in known]
    if missing:
        raise ConfigError(
            "--tenant: no enabled tenant with id " + ", ".join(repr(m) for m in missing),
            hint="`dbfleet fleet status` lists the tenants; --template repairs the template",
        )


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
