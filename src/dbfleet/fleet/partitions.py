"""Partition maintenance for range-partitioned tables declared in [[partitions]]: create the
missing future partitions, detach or drop the expired ones. Idempotent: partitions are named
after the period they hold (events_p20261122, events_p202611), so a second run finds them and
does nothing.

This module plans (periods, names, what is missing or expired) and reports; the catalog
queries and the DDL are the engine slice's (engines/postgres/partitions.py, the only engine
with declarative range partitioning), reached through dbfleet.engines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dbfleet.engines.base import PartitionChange
from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.fleet.registry import Tenant
from dbfleet.fleet.tenant import DONE, FAILED, Outcome
from dbfleet.secrets import redact

_SPAN = re.compile(r"^\s*(?P<n>\d+)\s*(?P<unit>d|days?|w|weeks?|m|months?)\s*$", re.I)


@dataclass(frozen=True)
class PartitionSpec:
    table: str
    column: str
    interval: str  # "1 day" | "1 week" | "1 month"
    schema: str | None = None
    premake: int = 7
    retention_days: int | None = None
    retention_action: str = "detach"


def describe(change: PartitionChange) -> str:
    """A change as the report shows it: `create public.events_p20261123 for [...)`."""
    where = f"{change.schema}.{change.partition}"
    if change.action == "create":
        return f"create {where} for [{change.start}, {change.end})"
    return f"{change.action} {where} (ended {change.end})"


def unsupported(name: str, engine: str) -> str:
    """Why partition maintenance cannot run on `name` (an environment or a tenant)."""
    from dbfleet.engines import dialect_for

    return (
        "partition maintenance is for PostgreSQL range-partitioned tables; "
        f"{name} is {dialect_for(engine).display_name}"
    )


def require_support(name: str, engine: str) -> None:
    """Refuse, in one line, an environment whose engine has no range-partition maintenance."""
    from dbfleet.engines import maintains_partitions

    if not maintains_partitions(engine):
        raise DbfleetError(unsupported(name, engine), hint="pick a PostgreSQL environment")


def days(text: str, where: str) -> int:
    """`30d`, `30 days`, `4 weeks`, `13 months` (30 days each) -> days."""
    match = _SPAN.match(text)
    if not match:
        raise ConfigError(
            f"{where}: '{text}' is not a span of time", hint='e.g. "30d" or "400 days"'
        )
    n, unit = int(match["n"]), match["unit"].lower()[0]
    return n * {"d": 1, "w": 7, "m": 30}[unit]


def specs(declared: Sequence[Mapping[str, Any]], source: str) -> list[PartitionSpec]:
    result = []
    for index, d in enumerate(declared, 1):
        where = f"{source}: partitions[{index}]"
        retention = d.get("retention")
        result.append(
            PartitionSpec(
                table=d["table"],
                column=d["column"],
                interval=d["interval"],
                schema=d.get("schema"),
                premake=d.get("premake", 7),
                retention_days=days(retention, f"{where}.retention") if retention else None,
                retention_action=d.get("retention_action", "detach"),
            )
        )
    return result


def _start_of(day: date, interval: str) -> date:
    if interval == "1 month":
        return day.replace(day=1)
    if interval == "1 week":
        return day - timedelta(days=day.weekday())
    return day


def _next(day: date, interval: str) -> date:
    if interval == "1 month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=7 if interval == "1 week" else 1)


def _name(table: str, start: date, interval: str) -> str:
    return f"{table}_p{start:%Y%m}" if interval == "1 month" else f"{table}_p{start:%Y%m%d}"


def periods(
    spec: PartitionSpec, today: date, lookahead_days: int | None
) -> list[tuple[date, date]]:
    """The periods that must have a partition: the current one up to the lookahead."""
    horizon = today + timedelta(days=lookahead_days) if lookahead_days is not None else None
    start = _start_of(today, spec.interval)
    result = []
    count = 0
    while True:
        end = _next(start, spec.interval)
        if horizon is None and count > spec.premake:
            break
        if horizon is not None and start > horizon:
            break
        result.append((start, end))
        start, count = end, count + 1
    return result


def plan(
    spec: PartitionSpec,
    existing: Mapping[str, date | None],
    today: date,
    *,
    lookahead_days: int | None,
    retention_days: int | None,
) -> list[PartitionChange]:
    """What to do for one table, given its partitions {name: the day its range ends, None when
    it is not a date range (the DEFAULT partition)}. Pure."""
    schema = spec.schema or "public"
    changes = []
    for start, end in periods(spec, today, lookahead_days):
        name = _name(spec.table, start, spec.interval)
        if name in existing:
            continue
        changes.append(PartitionChange("create", schema, spec.table, name, start, end))
    keep = retention_days if retention_days is not None else spec.retention_days
    if keep is not None:
        cutoff = today - timedelta(days=keep)
        for name, high in sorted(existing.items()):
            if high is None or high > cutoff:
                continue
            action = "drop" if spec.retention_action == "drop" else "detach"
            changes.append(PartitionChange(action, schema, spec.table, name, None, high))
    return changes


def maintain_tenant(
    tenant: Tenant,
    partition_specs: Sequence[PartitionSpec],
    *,
    today: date | None = None,
    lookahead_days: int | None,
    retention_days: int | None,
    dry_run: bool,
) -> Outcome:
    """Bring one database's partitions in shape; the actions done (or planned) as `scripts`."""
    from dbfleet.engines import (
        connect,
        existing_partitions,
        maintains_partitions,
        partition_statement,
    )

    started = time.perf_counter()
    today = today or datetime.now(UTC).date()
    done: list[str] = []
    if not maintains_partitions(tenant.url.engine):
        message = unsupported(tenant.id, tenant.url.engine)
        return Outcome(tenant.id, FAILED, None, None, 0, 0, message)
    try:
        with connect(tenant.url, create=False) as conn:
            for spec in partition_specs:
                if tenant.schema is not None and spec.schema is None:
                    spec = PartitionSpec(**{**vars(spec), "schema": tenant.schema})
                existing = existing_partitions(
                    conn, spec.table, spec.schema or "public", spec.column
                )
                changes = plan(
                    spec,
                    existing,
                    today,
                    lookahead_days=lookahead_days,
                    retention_days=retention_days,
                )
                for change in changes:
                    if not dry_run:
                        conn.execute(partition_statement(conn.dialect, change))
                    done.append(describe(change))
    except Exception as exc:
        message = exc.message if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
        return Outcome(
            tenant.id, FAILED, None, None, len(done), _ms(started), redact(message), tuple(done)
        )
    return Outcome(tenant.id, DONE, None, None, len(done), _ms(started), None, tuple(done))


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
