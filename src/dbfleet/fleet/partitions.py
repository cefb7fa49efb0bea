"""Partition maintenance for PostgreSQL range-partitioned tables declared in [[partitions]]:
create the missing future partitions, detach or drop the expired ones. Idempotent: partitions
are named after the period they hold (events_p20261122, events_p202611), so a second run
finds them and does nothing.

PostgreSQL only (declarative partitioning); the SQL lives here rather than in
engines/postgres because no other engine has an equivalent to plan for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.fleet.registry import Tenant
from dbfleet.fleet.tenant import DONE, FAILED, Outcome
from dbfleet.secrets import redact

_SPAN = re.compile(r"^\s*(?P<n>\d+)\s*(?P<unit>d|days?|w|weeks?|m|months?)\s*$", re.I)
_BOUND = re.compile(r"FROM \('(?P<low>[^']+)'\) TO \('(?P<high>[^']+)'\)")


@dataclass(frozen=True)
class PartitionSpec:
    table: str
    column: str
    interval: str  # "1 day" | "1 week" | "1 month"
    schema: str | None = None
    premake: int = 7
    retention_days: int | None = None
    retention_action: str = "detach"


@dataclass(frozen=True)
class Action:
    """One statement the maintenance runs, and what it means."""

    description: str
    sql: str


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
    existing: Mapping[str, str],
    today: date,
    *,
    lookahead_days: int | None,
    retention_days: int | None,
    quote: Any,
) -> list[Action]:
    """What to do for one table, given its partitions {name: bound expression}. Pure."""
    schema = spec.schema or "public"
    parent = f"{quote(schema)}.{quote(spec.table)}"
    actions = []
    for start, end in periods(spec, today, lookahead_days):
        name = _name(spec.table, start, spec.interval)
        if name in existing:
            continue
        actions.append(
            Action(
                f"create {schema}.{name} for [{start}, {end})",
                f"CREATE TABLE IF NOT EXISTS {quote(schema)}.{quote(name)} PARTITION OF {parent} "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')",
            )
        )
    keep = retention_days if retention_days is not None else spec.retention_days
    if keep is not None:
        cutoff = today - timedelta(days=keep)
        for name, bound in sorted(existing.items()):
            match = _BOUND.search(bound)
            if not match:
                continue  # the DEFAULT partition, or bounds that are not dates
            try:
                high = datetime.fromisoformat(match["high"].split(" ")[0]).date()
            except ValueError:
                continue
            if high > cutoff:
                continue
            if spec.retention_action == "drop":
                actions.append(
                    Action(
                        f"drop {schema}.{name} (ended {high})",
                        f"DROP TABLE {quote(schema)}.{quote(name)}",
                    )
                )
            else:
                actions.append(
                    Action(
                        f"detach {schema}.{name} (ended {high})",
                        f"ALTER TABLE {parent} DETACH PARTITION {quote(schema)}.{quote(name)}",
                    )
                )
    return actions


def _existing(conn: Any, spec: PartitionSpec) -> dict[str, str]:
    d = conn.dialect
    schema = spec.schema or "public"
    kind = conn.query(
        "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = {d.quote_literal(schema)} AND c.relname = {d.quote_literal(spec.table)}"
    )
    if not kind:
        raise DbfleetError(f"table {schema}.{spec.table} does not exist")
    if kind[0][0] != "p":
        raise DbfleetError(
            f"table {schema}.{spec.table} is not partitioned",
            hint=f"create it with PARTITION BY RANGE ({spec.column})",
        )
    parent = d.quote_literal(d.qualified(spec.table, schema))
    rows = conn.query(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        f"JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = {parent}::regclass"
    )
    return {str(name): str(bound) for name, bound in rows}


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
    from dbfleet.engines import connect

    started = time.perf_counter()
    today = today or datetime.now(UTC).date()
    done: list[str] = []
    if tenant.url.engine != "postgresql":
        return Outcome(
            tenant.id,
            FAILED,
            None,
            None,
            0,
            0,
            f"partition maintenance needs PostgreSQL; {tenant.id} is on {tenant.url.engine}",
        )
    try:
        with connect(tenant.url, create=False) as conn:
            for spec in partition_specs:
                if tenant.schema is not None and spec.schema is None:
                    spec = PartitionSpec(**{**vars(spec), "schema": tenant.schema})
                actions = plan(
                    spec,
                    _existing(conn, spec),
                    today,
                    lookahead_days=lookahead_days,
                    retention_days=retention_days,
                    quote=conn.dialect.quote_ident,
                )
                for action in actions:
                    if not dry_run:
                        conn.execute(action.sql)
                    done.append(action.description)
    except Exception as exc:
        message = exc.message if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
        return Outcome(
            tenant.id, FAILED, None, None, len(done), _ms(started), redact(message), tuple(done)
        )
    return Outcome(tenant.id, DONE, None, None, len(done), _ms(started), None, tuple(done))


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
