"""Dependency order: create what is needed before what needs it, deterministically."""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def dependency_order(
    items: Mapping[K, tuple[object, ...]], needs: Mapping[K, Iterable[K]]
) -> list[K]:
    """Keys of `items` so that each comes after the keys it `needs` (Kahn's algorithm).

    `items` maps a key to its sort key, which breaks ties (e.g. (kind rank, schema, name)), so
    the same input always gives the same order. Needs outside `items` are ignored. A cycle is
    broken at its smallest sort key: the rest of the order stays right.
    """
    pending = {k: {n for n in needs.get(k, ()) if n in items and n != k} for k in items}
    users: dict[K, list[K]] = {k: [] for k in items}
    for key, required in pending.items():
        for n in required:
            users[n].append(key)
    ready = [(items[k], i, k) for i, k in enumerate(items) if not pending[k]]
    heapq.heapify(ready)
    order: list[K] = []
    done: set[K] = set()
    index = {k: i for i, k in enumerate(items)}
    while len(order) < len(items):
        if not ready:  # a cycle: take the smallest remaining item anyway
            key = min((k for k in items if k not in done), key=lambda k: (items[k], index[k]))
            pending[key] = set()
            ready.append((items[key], index[key], key))
        _, _, key = heapq.heappop(ready)
        if key in done:
            continue
        done.add(key)
        order.append(key)
        for user in users[key]:
            pending[user].discard(key)
            if not pending[user] and user not in done:
                heapq.heappush(ready, (items[user], index[user], user))
    return order
