"""The runner's deadline hook (tenant_timeout): no new migration or lone statement starts
once the deadline has passed; what ran stays recorded as the engine allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbfleet.dburl import parse_url
from dbfleet.errors import MigrationFailed
from dbfleet.fleet.tenant import Deadline
from dbfleet.migrate.files import discover
from dbfleet.migrate.runner import MIGRATE, Runner
from dbfleet.migrate.target import Target
from tests.support import history, query


class PassesAt:
    """A deadline that passes when the runner asks about the `n`th statement or migration."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.asked: list[str] = []

    def passed(self, script: str) -> str | None:
        self.asked.append(script)
        return f"timed out (at {script})" if len(self.asked) >= self.n else None


def _run(tmp_path: Path, files: dict[str, str], deadline: PassesAt) -> str:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    target = Target.open(parse_url(url), table="dbfleet_schema_history")
    try:
        target.ensure_history()
        migrations = discover([folder])
        runner = Runner(target, migrations, {}, deadline=deadline)
        work = runner.prepare(target.state(migrations).pending(), MIGRATE)
        with pytest.raises(MigrationFailed) as failure:
            runner.run(work)
    finally:
        target.close()
    return failure.value.message


def test_no_migration_starts_after_the_deadline(tmp_path: Path) -> None:
    files = {f"V{i}__m{i}.sql": f"CREATE TABLE t{i} (id INTEGER);\n" for i in range(1, 6)}
    message = _run(tmp_path, files, PassesAt(3))
    assert message == "timed out (at V3__m3.sql): not started"
    assert history(f"sqlite:///{tmp_path / 'db.sqlite'}") == [
        ("1", "SQL", True),
        ("2", "SQL", True),
    ]


def test_a_migration_outside_a_transaction_stops_between_statements_and_stays_failed(
    tmp_path: Path,
) -> None:
    """Like any failure of a migration that cannot roll back: the statements that ran stay
    committed and the failed row blocks the next run until `repair`."""
    files = {
        "V1__lone.sql": "-- dbfleet:no-transaction\nCREATE TABLE a (id INTEGER);\n"
        "CREATE TABLE b (id INTEGER);\nCREATE TABLE c (id INTEGER);\n",
    }
    deadline = PassesAt(3)  # V1 itself, its first statement, then its second
    message = _run(tmp_path, files, deadline)
    assert message == "timed out (at V1__lone.sql)"
    assert deadline.asked == ["V1__lone.sql"] * 3
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert history(url) == [("1", "SQL", False)]
    tables = {r[0] for r in query(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" in tables and "b" not in tables


def test_the_deadline_message_names_its_limit_and_where_it_stopped() -> None:
    assert Deadline(5).passed("V1__a.sql") is None
    assert Deadline(0).passed("V3__x.sql") == "timed out after 0s (at V3__x.sql)"
    assert Deadline(0).passed() == "timed out after 0s"
    assert Deadline(900).passed() is None
