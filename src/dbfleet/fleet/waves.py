"""Waves: which tenants go first. Deterministic, so a resumed or repeated rollout agrees."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dbfleet.fleet.registry import Tenant


@dataclass(frozen=True)
class Wave:
    number: int  # 1-based, as users count them (--wave N)
    name: str  # "canary", "10%", ...
    tenants: tuple[Tenant, ...]


def _rank(tenant: Tenant) -> bytes:
    # A hash, not registry order: new tenants land in waves without shifting everyone else.
    return hashlib.sha256(tenant.id.encode()).digest()


def assign_waves(tenants: Sequence[Tenant], waves: Sequence[str]) -> list[Wave]:
    """Split tenants into waves: "canary" takes the tenants tagged canary; each percentage is
    a cumulative share of the rest (["10%", "100%"]: a tenth, then everyone else). The last
    wave always takes whoever is left, so no tenant is forgotten by a wave list that stops
    short of 100%."""
    names = list(waves) or ["100%"]
    canary = [t for t in tenants if t.canary] if "canary" in names else []
    rest = sorted((t for t in tenants if t not in canary), key=_rank)
    result: list[Wave] = []
    taken = 0
    for number, name in enumerate(names, 1):
        if name == "canary":
            chosen: list[Tenant] = canary
        else:
            share = min(float(name.rstrip("%")), 100.0) / 100
            upto = len(rest) if number == len(names) else math.ceil(share * len(rest))
            chosen = rest[taken : max(taken, upto)]
            taken = max(taken, upto)
        if number == len(names) and taken < len(rest):
            chosen = [*chosen, *rest[taken:]]
            taken = len(rest)
        result.append(Wave(number, name, tuple(chosen)))
    return result
