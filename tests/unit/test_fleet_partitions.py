"""Partition planning is pure: which partitions to create, detach or drop on a given day."""

from __future__ import annotations

from datetime import date

import pytest

from dbfleet.errors import ConfigError
from dbfleet.fleet.partitions import PartitionSpec, days, periods, plan


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
    existing = {
        "events_p20261122": "FOR VALUES FROM ('2026-11-22') TO ('2026-11-23')",
        "events_p20250101": "FOR VALUES FROM ('2025-01-01 00:00:00') TO ('2025-01-02 00:00:00')",
        "events_default": "DEFAULT",
    }
    actions = plan(
        spec, existing, date(2026, 11, 22), lookahead_days=1, retention_days=400, quote=_quote
    )
    assert [a.description.split(" ")[0] + " " + a.description.split(" ")[1] for a in actions] == [
        "create public.events_p20261123",
        "drop public.events_p20250101",
    ]
    assert actions[0].sql == (
        'CREATE TABLE IF NOT EXISTS "public"."events_p20261123" PARTITION OF "public"."events" '
        "FOR VALUES FROM ('2026-11-23') TO ('2026-11-24')"
    )


def test_spans_of_time() -> None:
    assert days("30d", "x") == 30
    assert days("400 days", "x") == 400
    assert days("2 weeks", "x") == 14
    with pytest.raises(ConfigError, match="not a span of time"):
        days("soon", "--lookahead")
