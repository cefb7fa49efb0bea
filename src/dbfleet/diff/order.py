"""Order changes from a statement graph: each change a node, dependencies its edges.

No fixed phases (fixed phases are where schema-diff tools get ordering wrong): a change runs after
everything it needs, drops of dependants run before what they depend on changes, creates go as
early and drops as late as the edges allow, and ties are broken by a stable sort key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from dbfleet.diff.change import Change
from dbfleet.schema.order import dependency_order

Graph = Mapping[str, frozenset[str] | set[str]]

# Among changes that are ready at the same time: creates and alters first, drops last;
# then by kind, so that a script reads in a familiar order.
_KIND_RANK = {
    "schema": 0,
    "extension": 1,
    "type": 2,
    "sequence": 3,
    "routine": 4,
    "table": 5,
    "column": 6,
    "constraint": 7,
    "index": 8,
    "view": 9,
    "trigger": 10,
    "policy": 11,
    "event": 12,
    "grant": 13,
    "owner": 14,
}


def order_changes(changes: Sequence[Change], before: Graph, after: Graph) -> list[Change]:
    """`changes` in an order that the database accepts.

    `before` and `after` map an object key to the keys it depends on in the old and the new
    schema; sub-objects (columns, constraints, ...) have keys of their own there.
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    by_parent: dict[str, list[int]] = defaultdict(list)
    for i, change in enumerate(changes):
        by_key[change.key].append(i)
        if change.parent:
            by_parent[change.parent].append(i)

    def related(key: str, change: Change) -> list[int]:
        """Changes of the object `key` names, and of its parts when `change` is of a whole object
        (a view over a table depends on its columns; a foreign key names what it needs exactly)."""
        if key == change.key or key == change.parent:
            return []
        return by_key.get(key, []) + ([] if change.parent else by_parent.get(key, []))

    needs: dict[int, set[int]] = {i: set() for i in range(len(changes))}
    for i, change in enumerate(changes):
        dropping = change.action == "drop"
        # It depended on these: drop it before they (or their parts) change; an alter stops
        # using them before they are dropped. A create is of the new object: no old needs.
        if change.action != "create":
            for key in before.get(change.key, ()):
                for j in related(key, change) if dropping else by_key.get(key, []):
                    if j != i and (dropping or changes[j].action == "drop"):
                        needs[j].add(i)
        # It will depend on these: create or alter them first.
        if not dropping:
            for key in after.get(change.key, ()):
                for j in related(key, change):
                    if changes[j].action != "drop":
                        needs[i].add(j)
        # A part of a table is changed after the table is created, and dropped (or altered)
        # before the table is dropped; a new part of a recreated table follows its drop too.
        for j in by_key.get(change.parent or "", ()):
            if changes[j].action != "drop":
                if not dropping:
                    needs[i].add(j)
            elif change.action == "create":
                needs[i].add(j)
            else:
                needs[j].add(i)
        for key in change.runs_after:
            needs[i].update(j for j in by_key.get(key, []) + by_parent.get(key, []) if j != i)
    # A recreate: the drop goes first.
    for indexes in by_key.values():
        drops = [i for i in indexes if changes[i].action == "drop"]
        for i in indexes:
            if changes[i].action != "drop":
                needs[i].update(drops)
    sort = {
        i: (1 if c.action == "drop" else 0, _KIND_RANK.get(c.kind, 99), c.name, i)
        for i, c in enumerate(changes)
    }
    return [changes[i] for i in dependency_order(sort, needs)]
