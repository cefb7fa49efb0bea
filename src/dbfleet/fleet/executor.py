"""The rollout loop: waves in order, tenants in parallel under the caps, an error budget.

Worker threads only talk to tenant databases; this loop (one thread) does all the
bookkeeping: it decides what starts, writes the ledger and emits events.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from dbfleet.fleet.registry import Tenant
from dbfleet.fleet.tenant import DONE, FAILED, Outcome
from dbfleet.fleet.waves import Wave


class Events(Protocol):
    def __call__(self, event: str, **fields: Any) -> None: ...


class Ledger(Protocol):
    """Where each tenant's start and end are recorded (the state store, in practice)."""

    def started(self, tenant: Tenant, wave: Wave) -> None: ...
    def finished(self, tenant: Tenant, wave: Wave, outcome: Outcome) -> None: ...


@dataclass(frozen=True)
class Limits:
    concurrency: int
    per_server: int
    budget: int  # failures tolerated; one more and no new tenant starts


@dataclass
class Summary:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)
    stopped: bool = False  # the error budget ran out

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.status == FAILED]

    @property
    def done(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.status == DONE]


def execute(
    waves: Sequence[Wave],
    work: Callable[[Tenant], Outcome],
    limits: Limits,
    ledger: Ledger,
    events: Events,
) -> Summary:
    """Run `work` for every tenant of every wave; never more than the caps at once."""
    summary = Summary()
    failures = 0
    started_at = time.monotonic()
    total = sum(len(w.tenants) for w in waves)
    with ThreadPoolExecutor(max_workers=limits.concurrency, thread_name_prefix="tenant") as pool:
        for wave in waves:
            if summary.stopped:
                summary.not_started += [t.id for t in wave.tenants]
                continue
            queue = list(wave.tenants)
            running: dict[Future[Outcome], Tenant] = {}
            per_server: Counter[str] = Counter()
            counts = Counter({"pending": len(queue)})
            events("wave_started", wave=wave.number, name=wave.name, tenants=len(queue))
            while queue or running:
                while queue and len(running) < limits.concurrency and not summary.stopped:
                    index = next(
                        (
                            i
                            for i, t in enumerate(queue)
                            if per_server[t.server] < limits.per_server
                        ),
                        None,
                    )
                    if index is None:
                        break
                    tenant = queue.pop(index)
                    per_server[tenant.server] += 1
                    ledger.started(tenant, wave)
                    counts["pending"] -= 1
                    counts["running"] += 1
                    events("tenant_started", tenant=tenant.id, wave=wave.number)
                    running[pool.submit(work, tenant)] = tenant
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    tenant = running.pop(future)
                    per_server[tenant.server] -= 1
                    outcome = future.result()
                    summary.outcomes[tenant.id] = outcome
                    ledger.finished(tenant, wave, outcome)
                    counts["running"] -= 1
                    counts[outcome.status] += 1
                    if outcome.status == FAILED:
                        failures += 1
                        if failures > limits.budget and not summary.stopped:
                            summary.stopped = True
                            events(
                                "budget_exhausted",
                                failures=failures,
                                budget=limits.budget,
                                wave=wave.number,
                            )
                    elapsed = time.monotonic() - started_at
                    events(
                        "tenant_" + ("finished" if outcome.status == DONE else "failed"),
                        tenant=tenant.id,
                        wave=wave.number,
                        version_before=outcome.version_before,
                        version_after=outcome.version_after,
                        applied=outcome.applied,
                        duration_ms=outcome.duration_ms,
                        error=outcome.error,
                        progress=dict(counts),
                        rate=len(summary.outcomes) / elapsed if elapsed else 0.0,
                        remaining=total - len(summary.outcomes),
                    )
            summary.not_started += [t.id for t in queue]
            events(
                "wave_finished",
                wave=wave.number,
                name=wave.name,
                done=counts[DONE],
                failed=counts[FAILED],
                not_started=len(queue),
            )
    return summary
