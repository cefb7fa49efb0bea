"""The state store on PostgreSQL (`[project] state_url`): the same schema, concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from dbfleet.config import load_project
from dbfleet.state import StateStore
from tests.support import cli, query, write_project


def _project(tmp_path: Path, state_url: str) -> Path:
    return write_project(tmp_path / "p", "sqlite:///app.db", extra=f'state_url = "{state_url}"')


def _write(config: str, count: int) -> None:
    with StateStore.open(load_project(Path(config))) as store:
        rollout = store.start_rollout("prod", "migrate", "2", [])
        for _ in range(count):
            run = store.start_run("fleet migrate", environment="prod")
            store.finish_run(run, "ok", duration_ms=1)
        store.set_rollout(rollout.id, "done")


def test_two_processes_writing_to_a_postgres_store_lose_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    config = str(_project(tmp_path, pg_url) / "dbfleet.toml")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write, args=(config, 40)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    assert query(pg_url, "SELECT count(*) FROM runs") == [(120,)]
    assert query(pg_url, "SELECT count(*) FROM rollouts WHERE status = 'done'") == [(3,)]
    assert query(pg_url, "SELECT version FROM dbfleet_state_history") == [("1",), ("2",), ("3",)]


def test_a_fleet_records_its_ledger_in_a_postgres_store(tmp_path: Path, pg_url: str) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "dbfleet.toml").write_text(
        f'[project]\nname = "x"\nstate_url = "{pg_url}"\n\n[environments.prod.fleet]\n'
        'template = "sqlite:///t.db"\n[environments.prod.fleet.registry]\n'
        'tenants = [{ id = "a", url = "sqlite:///a.db" }, { id = "b", url = "sqlite:///b.db" }]\n',
        encoding="utf-8",
    )
    (root / "migrations").mkdir()
    (root / "migrations" / "V1__x.sql").write_text("CREATE TABLE x (id INTEGER);\n")
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    rows = query(pg_url, "SELECT tenant, status, version_after FROM fleet_ledger ORDER BY tenant")
    assert rows == [("(template)", "done", "1"), ("a", "done", "1"), ("b", "done", "1")]
    assert not (root / ".dbfleet" / "state.db").exists()
    history = cli(root, "history", "--env", "prod")
    assert history.exit_code == 0 and "fleet migrate" in history.stdout
