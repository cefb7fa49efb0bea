"""Waves: canary first, cumulative shares of the rest, the same split every time."""

from __future__ import annotations

from dbfleet.dburl import parse_url
from dbfleet.fleet.registry import Tenant
from dbfleet.fleet.waves import assign_waves


def _tenants(n: int, canary: set[int] = frozenset()) -> list[Tenant]:  # type: ignore[assignment]
    url = parse_url("sqlite:///t.db")
    return [Tenant(f"t{i}", url, canary=i in canary) for i in range(n)]


def test_canary_wave_takes_the_tagged_tenants_and_percentages_split_the_rest() -> None:
    waves = assign_waves(_tenants(21, {3, 7}), ["canary", "10%", "100%"])
    assert [w.name for w in waves] == ["canary", "10%", "100%"]
    assert {t.id for t in waves[0].tenants} == {"t3", "t7"}
    assert len(waves[1].tenants) == 2  # ceil(10% of 19)
    assert len(waves[2].tenants) == 17
    ids = [t.id for w in waves for t in w.tenants]
    assert sorted(ids) == sorted(f"t{i}" for i in range(21))


def test_assignment_is_deterministic_and_independent_of_registry_order() -> None:
    tenants = _tenants(50)
    first = assign_waves(tenants, ["10%", "50%", "100%"])
    again = assign_waves(list(reversed(tenants)), ["10%", "50%", "100%"])
    assert [[t.id for t in w.tenants] for w in first] == [[t.id for t in w.tenants] for w in again]


def test_a_wave_list_short_of_100_percent_still_covers_every_tenant() -> None:
    waves = assign_waves(_tenants(10), ["20%", "50%"])
    assert sum(len(w.tenants) for w in waves) == 10


def test_no_canary_tenants_gives_an_empty_canary_wave() -> None:
    waves = assign_waves(_tenants(4), ["canary", "100%"])
    assert waves[0].tenants == ()
    assert len(waves[1].tenants) == 4
