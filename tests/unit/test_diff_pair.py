"""pair_up: two schemas' objects matched by key, each part in key order, renames taken only when possible."""

from __future__ import annotations

import operator

from dbfleet.diff.pair import by_name, by_qualified_name, pair_up
from dbfleet.schema.model import Column, Table


def _table(schema: str, name: str, *columns: str) -> Table:
    return Table(schema, name, columns=tuple(Column(c, "integer") for c in columns))


def test_objects_only_before_are_dropped_only_after_added_and_in_both_kept_in_key_order() -> None:
    before = [_table("s", "zebra"), _table("s", "ant"), _table("a", "zebra"), _table("s", "mid")]
    after = [_table("s", "mid"), _table("s", "new"), _table("a", "zebra"), _table("b", "ant")]

    paired = pair_up(before, after, by_qualified_name)

    assert [(t.schema, t.name) for t in paired.dropped] == [("s", "ant"), ("s", "zebra")]
    assert [(t.schema, t.name) for t in paired.added] == [("b", "ant"), ("s", "new")]
    assert [(a.name, b.name) for a, b in paired.kept] == [("zebra", "zebra"), ("mid", "mid")]
    assert paired.renamed == ()


def test_kept_pairs_are_before_then_after_and_same_leaves_out_the_unchanged() -> None:
    old_id, new_id = Column("id", "integer"), Column("id", "bigint")
    before = [old_id, Column("name", "text")]
    after = [Column("name", "text"), new_id]

    assert pair_up(before, after, by_name).kept == (
        (old_id, new_id),
        (Column("name", "text"), Column("name", "text")),
    )
    assert pair_up(before, after, by_name, same=operator.eq).kept == ((old_id, new_id),)


def test_a_key_is_whatever_the_engine_matches_names_by() -> None:
    paired = pair_up([Column("Email", "text")], [Column("email", "text")], lambda c: c.name.lower())

    assert paired.dropped == paired.added == ()
    assert [(a.name, b.name) for a, b in paired.kept] == [("Email", "email")]


def test_a_rename_pairs_the_old_object_with_the_new_one_instead_of_a_drop_and_a_create() -> None:
    before = [_table("s", "users", "id"), _table("s", "logs")]
    after = [_table("s", "accounts", "id")]

    paired = pair_up(before, after, by_qualified_name, renamed={("s", "users"): ("s", "accounts")})

    assert [(a.name, b.name) for a, b in paired.renamed] == [("users", "accounts")]
    assert [t.name for t in paired.dropped] == ["logs"]
    assert paired.added == paired.kept == ()


def test_a_rename_onto_a_name_the_old_schema_has_or_the_new_one_lacks_is_not_taken() -> None:
    before = [_table("s", "users"), _table("s", "accounts")]
    after = [_table("s", "accounts")]

    taken_name = pair_up(
        before, after, by_qualified_name, renamed={("s", "users"): ("s", "accounts")}
    )
    missing = pair_up(before, after, by_qualified_name, renamed={("s", "users"): ("s", "nope")})

    for paired in (taken_name, missing):
        assert paired.renamed == ()
        assert [t.name for t in paired.dropped] == ["users"]
        assert [(a.name, b.name) for a, b in paired.kept] == [("accounts", "accounts")]
