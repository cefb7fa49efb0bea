"""The rollout loop: caps on concurrency (total and per server) and the error budget."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from dbfleet.dburl import parse_url
from dbfleet.fleet.executor import Limits, execute
from dbfleet.fleet.registry import Tenant
from dbfleet.fleet.tenant import DONE, FAILED, Outcome
from dbfleet.fleet.waves import Wave


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ledger: list[tuple[str, str]] = []

    def __call__(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))

    def started(self, tenant: Tenant, wave: Wave) -> None:
        self.ledger.append((tenant.id, "running"))

    def finished(self, tenant: Tenant, wave: Wave, outcome: Outcome) -> None:
        self.ledger.append((tenant.id, outcome.status))


def _tenants(n: int, hosts: int = 1, prefix: str = "t") -> tuple[Tenant, ...]:
    return tuple(
        Tenant(f"{prefix}{i}", parse_url(f"postgresql://u@host{i % hosts}/db{i}")) for i in range(n)
    )


def test_never_more_than_the_caps_run_at_once() -> None:
    running: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    lock = threading.Lock()

    def work(tenant: Tenant) -> Outcome:
        with lock:
            running["all"] += 1
            running[tenant.server] += 1
            for key in ("all", tenant.server):
                peak[key] = max(peak[key], running[key])
        time.sleep(0.01)
        with lock:
            running["all"] -= 1
            running[tenant.server] -= 1
        return Outcome(tenant.id, DONE, None, "1", 1, 10)

    recorder = Recorder()
    waves = [Wave(1, "100%", _tenants(40, hosts=2))]
    summary = execute(waves, work, Limits(6, 2, 0), recorder, recorder)
    assert len(summary.done) == 40
    assert peak["all"] <= 4  # two hosts x two per server
    assert all(peak[h] <= 2 for h in peak if h != "all")


def test_beyond_the_error_budget_no_new_tenant_starts_and_later_waves_wait() -> None:
    def work(tenant: Tenant) -> Outcome:
        status = FAILED if tenant.id in ("t1", "t2") else DONE
        return Outcome(tenant.id, status, None, None, 0, 1, "boom" if status == FAILED else None)

    recorder = Recorder()
    waves = [Wave(1, "50%", _tenants(6)), Wave(2, "100%", _tenants(4, prefix="u"))]
    summary = execute(waves, work, Limits(1, 8, 1), recorder, recorder)
    assert summary.stopped
    assert [o.tenant for o in summary.failed] == ["t1", "t2"]
    assert summary.not_started == ["t3", "t4", "t5", "u0", "u1", "u2", "u3"]
    assert ("budget_exhausted", {"failures": 2, "budget": 1, "wave": 1}) in recorder.events
    started = [t for t, s in recorder.ledger if s == "running"]
    assert started == ["t0", "t1", "t2"]
