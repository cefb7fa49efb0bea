"""The state store on its default SQLite file: schema migrated by dbfleet, writes safe."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from dbfleet.config import load_project
from dbfleet.errors import DbfleetError
from dbfleet.state import StateStore, store_url
from dbfleet.state.store import HISTORY_TABLE
from tests.support import query, write_project


def _project(tmp_path: Path, extra: str = "") -> Path:
    return write_project(tmp_path / "p", "sqlite:///app.db", extra=extra)


def test_a_new_store_lives_in_dot_dbfleet_and_records_runs(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path) / "dbfleet.toml")
    with StateStore.open(project) as store:
        run = store.start_run("migrate", environment="dev", target="app.db")
        store.finish_run(run, "ok", duration_ms=12, targets=[{"target": "app.db", "result": "ok"}])
        runs = store.runs(environment="dev")
        assert [(r.command, r.result, r.duration_ms) for r in runs] == [("migrate", "ok", 12)]
        assert store.run_targets(run)[0]["result"] == "ok"
    assert (tmp_path / "p" / ".dbfleet" / "state.db").is_file()


def test_the_sqlite_store_is_tuned_for_concurrent_writers(tmp_path: Path) -> None:
    """The SQLite dialect's store_session: WAL, a 30 s busy timeout, synchronous=NORMAL."""
    project = load_project(_project(tmp_path) / "dbfleet.toml")
    with StateStore.open(project) as store:
        assert store.conn.query("PRAGMA journal_mode") == [("wal",)]
        assert store.conn.query("PRAGMA busy_timeout") == [(30000,)]
        assert store.conn.query("PRAGMA synchronous") == [(1,)]  # NORMAL


def test_the_store_schema_is_migrated_once_by_dbfleet_itself(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path) / "dbfleet.toml")
    StateStore.open(project).close()
    StateStore.open(project).close()
    url = store_url(project).full
    rows = query(url, f"SELECT version, success FROM {HISTORY_TABLE}")
    assert rows == [("1", 1), ("2", 1), ("3", 1)]


def test_errors_are_stored_without_passwords(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path) / "dbfleet.toml")
    with StateStore.open(project) as store:
        run = store.start_run("migrate")
        store.finish_run(run, "failed", error="cannot connect to postgresql://u:hunter22@db/x")
        rollout = store.start_rollout("dev", "migrate", None, [("acme", 1)])
        store.tenant_finished(
            rollout.id,
            "acme",
            status="failed",
            version_before=None,
            version_after=None,
            duration_ms=1,
            applied=0,
            error="password=hunter22 rejected",
        )
        assert "hunter22" not in (store.runs()[0].error or "")
        assert "hunter22" not in (store.ledger(rollout.id)[0].error or "")


def test_a_store_written_by_a_newer_dbfleet_is_refused(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path) / "dbfleet.toml")
    StateStore.open(project).close()
    query(
        store_url(project).full,
        f"INSERT INTO {HISTORY_TABLE} (version, description, type, script, checksum, "
        "installed_by, execution_time, success) VALUES ('99', 'future', 'SQL', "
        "'V99__future.sql', 'x', 'someone', 0, 1)",
    )
    with pytest.raises(DbfleetError, match="newer dbfleet"):
        StateStore.open(project)


def test_state_url_must_be_sqlite_or_postgresql(tmp_path: Path) -> None:
    root = _project(tmp_path, extra='state_url = "mysql://root@127.0.0.1/state"')
    with pytest.raises(DbfleetError, match="state store cannot live on mysql"):
        store_url(load_project(root / "dbfleet.toml"))


def _write_runs(config: str, count: int) -> None:
    project = load_project(Path(config))
    with StateStore.open(project) as store:
        for _ in range(count):
            run = store.start_run("migrate", environment="dev")
            store.finish_run(run, "ok", duration_ms=1)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    config = str(_project(tmp_path) / "dbfleet.toml")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_runs, args=(config, 60)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    with StateStore.open(load_project(Path(config))) as store:
        runs = store.runs(limit=1000)
    assert len(runs) == 120
    assert all(r.result == "ok" for r in runs)


def test_approvals_are_bound_to_a_plan_hash(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path) / "dbfleet.toml")
    with StateStore.open(project) as store:
        store.approve("sha256:abc", "prod", approver="alice", comment="looks right")
        store.approve("sha256:other", "prod", approver="bob")
        found = store.approvals("sha256:abc")
    assert [(a.approver, a.environment, a.comment) for a in found] == [
        ("alice", "prod", "looks right")
    ]


def test_a_locked_store_is_one_clear_error(tmp_path: Path) -> None:
    import sqlite3

    project = load_project(_project(tmp_path) / "dbfleet.toml")
    with StateStore.open(project) as store:
        store.conn.execute("PRAGMA busy_timeout=100")
        holder = sqlite3.connect(store_url(project).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DbfleetError, match="cannot write to the state store at sqlite"):
                store.start_run("migrate")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
