"""Pair up the objects of two schemas by key: what only the old one has, only the new one, both."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class _Sortable(Hashable, Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=_Sortable)
T = TypeVar("T")


@dataclass(frozen=True)
class Paired(Generic[T]):
    """Two collections matched by key; each part in key order, so that changes keep one order."""

    dropped: tuple[T, ...]  # only before: to drop
    added: tuple[T, ...]  # only after: to create
    kept: tuple[tuple[T, T], ...]  # (before, after) under the same key: to compare
    renamed: tuple[tuple[T, T], ...] = ()  # (before, after) under another key, as asked


def pair_up(
    before: Iterable[T],
    after: Iterable[T],
    key: Callable[[T], K],
    *,
    same: Callable[[T, T], bool] | None = None,
    renamed: Mapping[K, K] | None = None,
) -> Paired[T]:
    """`before` and `after` matched by `key` (the last object wins where a key repeats).

    `same` leaves out of `kept` the pairs with nothing to change. `renamed` maps old keys to new
    ones; a rename is taken when its old key is in `before` and its new key only in `after`, and
    what it pairs is then neither dropped nor added.
    """
    old = {key(x): x for x in before}
    new = {key(x): x for x in after}
    moves = {o: n for o, n in (renamed or {}).items() if o in old and n in new and n not in old}
    moved_to = set(moves.values())
    kept = ((old[k], new[k]) for k in sorted(old.keys() & new.keys()))
    return Paired(
        dropped=tuple(old[k] for k in sorted(old.keys() - new.keys() - moves.keys())),
        added=tuple(new[k] for k in sorted(new.keys() - old.keys() - moved_to)),
        kept=tuple((a, b) for a, b in kept if same is None or not same(a, b)),
        renamed=tuple((old[o], new[n]) for o, n in sorted(moves.items())),
    )


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _InSchema(_Named, Protocol):
    @property
    def schema(self) -> str: ...


def by_name(x: _Named) -> str:
    """The key of an object named within its parent (a column, an index, a trigger, ...)."""
    return x.name


def by_qualified_name(x: _InSchema) -> tuple[str, str]:
    """The key of an object named within a schema (a table, a view, a sequence, ...)."""
    return (x.schema, x.name)
