"""`dbfleet maintain partitions` on PostgreSQL tenants: creates ahead, retires, idempotent;
refused in one line on the engines without declarative range partitioning."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_fleet_engines import pg_tenants, project_for  # noqa: F401
from tests.support import cli, query, write_project

EVENTS = {
    "V1__events.sql": "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) "
    "PARTITION BY RANGE (created_at);\n"
    "CREATE TABLE events_p20200101 PARTITION OF events "
    "FOR VALUES FROM ('2020-01-01') TO ('2020-01-02');\n",
}


@pytest.mark.parametrize("pg_tenants", [3], indirect=True)
def test_partitions_for_the_next_30_days_exist_on_every_tenant(
    tmp_path: Path,
    pg_tenants: list[str],  # noqa: F811 (the fixture imported above)
) -> None:
    root = project_for(tmp_path, pg_tenants, EVENTS, fleet="concurrency = 3")
    config = root / "dbfleet.toml"
    config.write_text(
        config.read_text()
        + '\n[[partitions]]\ntable = "events"\ncolumn = "created_at"\ninterval = "1 day"\n'
        'retention = "400 days"\nretention_action = "detach"\n'
    )
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    dry = cli(root, "maintain", "partitions", "--env", "prod", "--lookahead", "30d", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would create public.events_p" in dry.stderr
    assert query(pg_tenants[0], "SELECT count(*) FROM pg_inherits") == [(1,)]

    result = cli(root, "maintain", "partitions", "--env", "prod", "--lookahead", "30d")
    assert result.exit_code == 0, result.output
    assert "did detach public.events_p20200101" in result.stderr
    for url in pg_tenants:
        attached = query(
            url,
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass",
        )
        assert attached == [(31,)]
        # a row for any day of the next 30 has a partition to go to
        query(
            url,
            "INSERT INTO events SELECT 1, now() + d * interval '1 day' "
            "FROM generate_series(0, 30) AS d",
        )
    again = cli(root, "maintain", "partitions", "--env", "prod", "--lookahead", "30d")
    assert again.exit_code == 0
    assert "0 did change, 4 already in shape" in again.stderr


@pytest.mark.parametrize(
    ("fixture", "shown"), [("sqlite_url", "SQLite"), ("mysql_url", "MariaDB/MySQL")]
)
def test_other_engines_are_refused_in_one_line(
    tmp_path: Path, request: pytest.FixtureRequest, fixture: str, shown: str
) -> None:
    url = request.getfixturevalue(fixture)
    partitions = '\n[[partitions]]\ntable = "events"\ncolumn = "created_at"\ninterval = "1 day"\n'
    root = write_project(tmp_path / "p", url, extra=partitions)
    result = cli(root, "maintain", "partitions", "--env", "dev")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        f"partition maintenance is for PostgreSQL range-partitioned tables; dev is {shown}"
        in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
