"""Partition planning is pure: which partitions to create, detach or drop on a given day."""

from __future__ import annotations

from datetime import date

import pytest

from dbfleet.engines import partition_statement
from dbfleet.engines.postgres.dialect import DIALECT as POSTGRES
from dbfleet.engines.postgres.partitions import upper_bound
from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.fleet.partitions import PartitionSpec, days, describe, periods, plan, require_support


def test_daily_partitions_cover_today_and_the_lookahead() -> None:
    spec = PartitionSpec("events", "created_at", "1 day")
    found = periods(spec, date(2026, 11, 22), 30)
    assert found[0] == (date(2026, 11, 22), date(2026, 11, 23))
    assert found[-1][0] == date(2026, 12, 22)
    assert len(found) == 31


def test_monthly_periods_start_on_the_first() -> None:
    spec = PartitionSpec("events", "created_at", "1 month", premake=2)
    assert periods(spec, date(2026, 12, 15), None) == [
        (date(2026, 12, 1), date(2027, 1, 1)),
        (date(2027, 1, 1), date(2027, 2, 1)),
        (date(2027, 2, 1), date(2027, 3, 1)),
    ]


def test_existing_partitions_are_not_created_again_and_expired_ones_are_retired() -> None:
    spec = PartitionSpec("events", "created_at", "1 day", retention_action="drop")
    # {name: the day its range ends}, as the engine reads it from the catalog
    existing = {
        "events_p20261122": date(2026, 11, 23),
        "events_p20250101": date(2025, 1, 2),
        "events_default": None,
    }
    actions = plan(spec, existing, date(2026, 11, 22), lookahead_days=1, retention_days=400)
    assert [describe(a) for a in actions] == [
        "create public.events_p20261123 for [2026-11-23, 2026-11-24)",
        "drop public.events_p20250101 (ended 2025-01-02)",
    ]
    assert partition_statement(POSTGRES, actions[0]) == (
        "CREATE TABLE IF NOT EXISTS public.events_p20261123 PARTITION OF public.events "
        "FOR VALUES FROM ('2026-11-23') TO ('2026-11-24')"
    )
    assert partition_statement(POSTGRES, actions[1]) == "DROP TABLE public.events_p20250101"


def test_expired_partitions_are_detached_by_default() -> None:
    spec = PartitionSpec("events", "created_at", "1 day", schema="t1")
    actions = plan(
        spec,
        {"events_p20250101": date(2025, 1, 2)},
        date(2026, 11, 22),
        lookahead_days=0,
        retention_days=30,
    )
    assert describe(actions[-1]) == "detach t1.events_p20250101 (ended 2025-01-02)"
    assert partition_statement(POSTGRES, actions[-1]) == (
        "ALTER TABLE t1.events DETACH PARTITION t1.events_p20250101"
    )


def test_postgresql_bounds_read_as_the_day_the_range_ends() -> None:
    assert upper_bound("FOR VALUES FROM ('2026-11-22') TO ('2026-11-23')") == date(2026, 11, 23)
    assert upper_bound(
        "FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-01-02 00:00:00+00')"
    ) == date(2025, 1, 2)
    assert upper_bound("DEFAULT") is None
    assert upper_bound("FOR VALUES FROM (1) TO (100)") is None
    assert upper_bound("FOR VALUES FROM ('a') TO ('b')") is None


@pytest.mark.parametrize(("engine", "shown"), [("sqlite", "SQLite"), ("mysql", "MariaDB/MySQL")])
def test_other_engines_are_refused_in_one_line(engine: str, shown: str) -> None:
    with pytest.raises(DbfleetError) as caught:
        require_support("prod", engine)
    assert caught.value.message == (
        f"partition maintenance is for PostgreSQL range-partitioned tables; prod is {shown}"
    )
    require_support("prod", "postgresql")  # no error


def test_spans_of_time() -> None:
    assert days("30d", "x") == 30
    assert days("400 days", "x") == 400
    assert days("2 weeks", "x") == 14
    with pytest.raises(ConfigError, match="not a span of time"):
        days("soon", "--lookahead")


def test_names_that_need_quoting_are_quoted() -> None:
    spec = PartitionSpec("Order", "at", "1 month", schema='a"b', premake=0)
    (change,) = plan(spec, {}, date(2026, 11, 22), lookahead_days=None, retention_days=None)
    assert partition_statement(POSTGRES, change) == (
        'CREATE TABLE IF NOT EXISTS "a""b"."Order_p202611" PARTITION OF "a""b"."Order" '
        "FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')"
    )
