"""`fleet exec`: a SQL file (smoke tests) on a random sample of tenants, results per tenant."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dbfleet.config import Environment
from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.fleet.registry import Tenant
from dbfleet.fleet.settings import FleetSettings
from dbfleet.fleet.tenant import tenant_environment
from dbfleet.migrate.placeholders import fill
from dbfleet.secrets import redact

_READS = ("select", "with", "show", "values", "pragma", "explain")


@dataclass(frozen=True)
class SmokeResult:
    tenant: str
    statements: int
    result: str | None
    duration_ms: int
    error: str | None = None


def sample_size(text: str, total: int) -> int:
    """`5%` (at least one tenant when there are any) or a count, capped at `total`."""
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not 0 < share <= 100:
                raise ValueError
            return min(total, max(1, math.ceil(share / 100 * total))) if total else 0
        count = int(text)
        if count < 1:
            raise ValueError
    except ValueError:
        raise ConfigError(f"--sample {text}: use a share like 5% or a count like 10") from None
    return min(total, count)


def run_sample(
    env: Environment,
    settings: FleetSettings,
    tenants: Sequence[Tenant],
    script: str,
    name: str,
    sample: str,
    seed: int | None,
) -> list[SmokeResult]:
    chosen = random.Random(seed).sample(list(tenants), sample_size(sample, len(tenants)))
    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        results = list(pool.map(lambda t: _run(env, t, script, name, settings.init_sql), chosen))
    return sorted(results, key=lambda r: r.tenant)


def _run(
    env: Environment, tenant: Tenant, script: str, name: str, init_sql: str | None
) -> SmokeResult:
    from dbfleet.engines import connect

    started = time.perf_counter()
    tenant_env = tenant_environment(env, tenant)
    count = 0
    last: str | None = None
    try:
        with connect(tenant.url, create=False) as conn:
            if init_sql:
                conn.execute(fill(init_sql, tenant_env.placeholders, "fleet.init_sql"))
            for statement in conn.dialect.split(fill(script, tenant_env.placeholders, name)):
                noise = conn.dialect.leading_noise.match(statement.text)
                words = statement.text[noise.end() if noise else 0 :].split(None, 1)
                first = words[0].lower() if words else ""
                if first in _READS:
                    rows = conn.query(statement.text)
                    last = str(rows[0][0]) if rows and rows[0] else "no rows"
                else:
                    conn.execute(statement.text)
                count += 1
    except DbfleetError as exc:
        return SmokeResult(
            tenant.id,
            count,
            last,
            _ms(started),
            redact(f"{name}: statement {count + 1}: {exc.message}"),
        )
    except Exception as exc:
        return SmokeResult(
            tenant.id, count, last, _ms(started), redact(f"{type(exc).__name__}: {exc}")
        )
    return SmokeResult(tenant.id, count, last, _ms(started))


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
