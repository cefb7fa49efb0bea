"""Fleet rollouts with SQLite tenants (cheap, no server): isolation, budget, resume, verify."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.support import cli, cli_process, history

SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) "
    "SELECT count(*) FROM c;\n"
)


def fleet_project(
    root: Path,
    tenants: int,
    *,
    migrations: dict[str, str] | None = None,
    fleet: str = "",
    extra_rows: str = "",
) -> Path:
    """A project whose `prod` fleet has a SQLite template and `tenants` SQLite tenants."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbfleet.toml").write_text(
        '[project]\nname = "fleet-test"\n\n[environments.prod.fleet]\n'
        'template = "sqlite:///db/template.db"\n'
        f"{fleet}\n"
        '[environments.prod.fleet.registry]\nfile = "tenants.csv"\n',
        encoding="utf-8",
    )
    rows = ["id,url,group,canary"]
    rows += [
        f"t{i:03},sqlite:///db/t{i:03}.db,{'eu' if i % 2 else 'us'},{'true' if i == 0 else ''}"
        for i in range(tenants)
    ]
    (root / "tenants.csv").write_text("\n".join(rows) + "\n" + extra_rows, encoding="utf-8")
    folder = root / "migrations"
    folder.mkdir(exist_ok=True)
    for name, text in (
        migrations
        or {
            "V1__accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, amount INTEGER);\n",
            "V2__plans.sql": "CREATE TABLE plans (id INTEGER PRIMARY KEY);\n",
            "R__totals.sql": "CREATE VIEW totals AS SELECT sum(amount) AS total FROM accounts;\n",
        }
    ).items():
        (folder / name).write_text(text, encoding="utf-8")
    return root


def tenant_url(root: Path, tenant: str) -> str:
    return f"sqlite:///{root / 'db' / (tenant + '.db')}"


def ledger(root: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(root / ".dbfleet" / "state.db") as conn:
        return conn.execute(
            "SELECT tenant, status, attempts FROM fleet_ledger ORDER BY tenant"
        ).fetchall()


def test_a_rollout_migrates_the_template_then_every_tenant_in_waves(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 6, fleet='waves = ["canary", "50%", "100%"]')
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 0, result.output
    assert "wave 1 (canary)" in result.stderr and "wave 3 (100%)" in result.stderr
    assert result.stderr.index("(template)") < result.stderr.index("wave 1")
    for tenant in ["t000", "t003", "t005"]:
        assert [r[0] for r in history(tenant_url(root, tenant))] == ["1", "2", None]
    assert {status for _, status, _ in ledger(root)} == {"done"}
    status = cli(root, "fleet", "status", "--env", "prod", "--json")
    data = json.loads(status.stdout)
    assert data["by_version"] == {"2": 6}
    assert all(t["pending"] == 0 and t["last_result"] == "done" for t in data["tenants"])
    assert cli(root, "fleet", "verify", "--env", "prod").exit_code == 0
    again = cli(root, "fleet", "migrate", "--env", "prod")
    assert again.exit_code == 0 and "0 applied" in again.stderr


def test_a_failing_tenant_is_isolated_and_retry_failed_completes_it(tmp_path: Path) -> None:
    migrations = {
        "V1__accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, amount INTEGER);\n",
        "V2__unique_amount.sql": "CREATE UNIQUE INDEX accounts_amount ON accounts (amount);\n",
    }
    root = fleet_project(tmp_path, 8, migrations=migrations, fleet="max_failures = 1")
    assert cli(root, "fleet", "migrate", "--env", "prod", "--target", "1").exit_code == 0
    bad = tenant_url(root, "t004")
    with sqlite3.connect(bad.removeprefix("sqlite:///")) as conn:
        conn.execute("INSERT INTO accounts (amount) VALUES (5), (5)")  # bad data for V2
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 1
    assert "FAILED  t004" in result.stderr and "UNIQUE constraint failed" in result.stderr
    assert "7 ok, 1 failed" in result.stderr
    assert [r[0] for r in history(bad)] == ["1"]  # rolled back: at a version boundary
    assert ("t004", "failed", 1) in ledger(root)
    failed = json.loads(
        cli(root, "fleet", "status", "--env", "prod", "--only", "failed", "--json").stdout
    )
    assert [t["tenant"] for t in failed["tenants"]] == ["t004"]
    recorded = cli(root, "fleet", "status", "--env", "prod", "--from-ledger", "--json")
    assert json.loads(recorded.stdout)["by_version"] == {"1": 1, "2": 7}
    # For a CI job summary: the counts, and only the tenants that need a look.
    summary = cli(root, "fleet", "status", "--env", "prod", "-f", "md").stdout
    assert summary.startswith("## Fleet `prod`: template at `2`")
    assert "8 tenant(s) by version: `1` 1, `2` 7 · 1 failed" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| `t")]
    assert len(rows) == 1 and rows[0].startswith("| `t004` |") and "UNIQUE" in rows[0]
    with sqlite3.connect(bad.removeprefix("sqlite:///")) as conn:
        conn.execute("DELETE FROM accounts WHERE id = (SELECT max(id) FROM accounts)")
    retry = cli(root, "fleet", "retry", "--failed", "--env", "prod")
    assert retry.exit_code == 0, retry.output
    assert "1 ok, 0 failed" in retry.stderr
    assert [r[0] for r in history(bad)] == ["1", "2"]
    assert ("t004", "done", 2) in ledger(root)
    assert cli(root, "fleet", "verify", "--env", "prod").exit_code == 0


def test_the_error_budget_stops_new_tenants_and_resume_finishes_them(tmp_path: Path) -> None:
    root = fleet_project(
        tmp_path,
        6,
        fleet="concurrency = 1\nmax_failures = 0",
        migrations={"V1__t.sql": "CREATE TABLE t (id INTEGER);\n"},
    )
    # Tenants whose folder cannot be created (a file is in the way) fail to connect.
    (root / "db").mkdir()
    (root / "db" / "blocker").write_text("not a folder")
    rows = "".join(f"bad{i},sqlite:///db/blocker/bad{i}.db,,\n" for i in range(3))
    (root / "tenants.csv").write_text((root / "tenants.csv").read_text() + rows)
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 1
    assert "error budget exhausted" in result.stderr
    assert "not started" in result.stderr
    statuses = {t: s for t, s, _ in ledger(root)}
    assert list(statuses.values()).count("failed") == 1
    assert "pending" in statuses.values()
    (root / "db" / "blocker").unlink()
    resumed = cli(root, "fleet", "resume", "--env", "prod")
    assert resumed.exit_code == 0, resumed.output
    after = {t: s for t, s, _ in ledger(root)}
    assert list(after.values()).count("failed") == 1  # resume leaves failed tenants alone
    assert cli(root, "fleet", "retry", "--failed", "--env", "prod").exit_code == 0
    assert {s for _, s, _ in ledger(root)} == {"done"}


def test_a_malicious_tenant_id_is_data_and_an_unreachable_tenant_fails_alone(
    tmp_path: Path,
) -> None:
    evil = 'x"; drop table accounts; --'
    root = fleet_project(
        tmp_path,
        4,
        fleet="max_failures = 2",
        migrations={
            "V1__accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT);\n"
            "INSERT INTO accounts (owner) VALUES (${tenant});\n"
        },
        extra_rows=f'"{evil.replace(chr(34), chr(34) * 2)}",sqlite:///db/evil.db,,\n'
        "gone,postgresql://postgres@127.0.0.1:1/nowhere,,\n",
    )
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 1
    assert "FAILED  gone: cannot connect" in result.stderr
    assert "4 ok" not in result.stderr and "5 ok, 1 failed" in result.stderr
    from tests.support import query

    assert query(tenant_url(root, "evil"), "SELECT owner FROM accounts") == [(evil,)]
    assert query(tenant_url(root, "t001"), "SELECT owner FROM accounts") == [("t001",)]


def test_dry_run_lists_per_tenant_what_would_run_and_changes_nothing(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 3)
    result = cli(root, "fleet", "migrate", "--env", "prod", "--dry-run")
    assert result.exit_code == 0
    assert (
        "t001 (wave 1 (100%)) at none: would run V1__accounts.sql, V2__plans.sql" in result.stdout
    )
    assert not (root / "db" / "t001.db").exists()


def test_json_log_is_one_object_per_event(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 3)
    result = cli(root, "fleet", "migrate", "--env", "prod", "--log-format", "json")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "rollout_started" and kinds[-1] == "summary"
    assert kinds.count("tenant_finished") == 4  # the template and three tenants
    finished = next(e for e in events if e["event"] == "tenant_finished" and e["tenant"] == "t001")
    assert finished["version_after"] == "2" and finished["duration_ms"] >= 0


def test_undo_runs_the_template_first_then_tenants_in_reverse_wave_order(tmp_path: Path) -> None:
    migrations = {
        "V1__a.sql": "CREATE TABLE a (id INTEGER);\n",
        "V2__b.sql": "CREATE TABLE b (id INTEGER);\n",
        "U2__b.sql": "DROP TABLE b;\n",
    }
    root = fleet_project(tmp_path, 5, migrations=migrations, fleet='waves = ["canary", "100%"]')
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    result = cli(root, "fleet", "undo", "--env", "prod", "--to", "1", "--log-format", "json")
    assert result.exit_code == 0, result.output
    started = [json.loads(x) for x in result.stdout.splitlines()]
    order = [e["tenant"] for e in started if e["event"] == "tenant_started"]
    assert order[0] == "(template)" and order[-1] == "t000"  # the canary goes last
    data = json.loads(cli(root, "fleet", "status", "--env", "prod", "--json").stdout)
    assert data["by_version"] == {"1": 5}


def test_exec_runs_a_smoke_test_on_a_sample(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 10)
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    (root / "smoke.sql").write_text(
        "-- every tenant has its accounts table\nSELECT count(*) FROM accounts;\n"
        "SELECT ${tenant};\n"
    )
    result = cli(root, "fleet", "exec", "--env", "prod", "--sample", "30%", "smoke.sql")
    assert result.exit_code == 0
    assert "3 tenant(s) sampled: 3 ok, 0 failed" in result.stderr
    assert "2 statement(s), result t0" in result.stderr  # the last query's first value
    (root / "bad.sql").write_text("SELECT * FROM no_such_table;\n")
    failed = cli(root, "fleet", "exec", "--env", "prod", "--sample", "2", "bad.sql")
    assert failed.exit_code == 1 and "no such table" in failed.stderr


def test_drift_finds_the_tenant_changed_by_hand(tmp_path: Path) -> None:
    migrations = {
        "V1__plans.sql": "CREATE TABLE plans (id INTEGER PRIMARY KEY, name TEXT);\n"
        "CREATE INDEX plans_name ON plans (name);\n",
    }
    root = fleet_project(tmp_path, 4, migrations=migrations)
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    assert cli(root, "fleet", "drift", "--env", "prod").exit_code == 0
    with sqlite3.connect(root / "db" / "t002.db") as conn:
        conn.execute("ALTER TABLE plans ADD COLUMN hotfix TEXT")
        conn.execute("DROP INDEX plans_name")
    result = cli(root, "fleet", "drift", "--env", "prod")
    assert result.exit_code == 2
    assert "t002: differs from the template (1 difference)" in result.stdout
    assert (
        "  table plans: differs from the template (column hotfix added; index plans_name "
        "dropped)" in result.stdout
    )
    assert "CREATE INDEX" not in result.stdout  # the SQL only with --fix-sql
    assert "4 tenant(s) compared with the template" in result.stdout and "1 differ" in result.stdout

    shown = cli(root, "fleet", "drift", "--env", "prod", "--fix-sql", "-")
    assert shown.exit_code == 2 and "-- to bring t002 back to the template" in shown.stdout
    fix = shown.stdout[shown.stdout.index("-- to bring t002") :].split("\n\n4 tenant(s)")[0]
    data = json.loads(cli(root, "fleet", "drift", "--env", "prod", "--json").stdout)
    assert data["differ"] == 1 and data["compared"] == 4
    t002 = next(t for t in data["tenants"] if t["tenant"] == "t002")
    assert t002["matches"] is False and t002["error"] is None
    assert t002["differences"] == [
        {
            "kind": "table",
            "object": "plans",
            "what": "differs from the template (column hotfix added; index plans_name dropped)",
        }
    ]
    t000 = next(t for t in data["tenants"] if t["tenant"] == "t000")
    assert t000 == {
        "tenant": "t000",
        "fingerprint": data["template_fingerprint"],
        "matches": True,
        "error": None,
        "differences": [],
        "fix_sql": None,
    }

    folder = tmp_path / "fixes"
    written = cli(root, "fleet", "drift", "--env", "prod", "--fix-sql", str(folder))
    assert written.exit_code == 2 and "wrote 1 fix script(s)" in written.stderr
    assert [p.name for p in folder.iterdir()] == ["t002.sql"]
    script = (folder / "t002.sql").read_text()
    assert script == t002["fix_sql"] and fix.strip() in script
    with sqlite3.connect(root / "db" / "t002.db") as conn:
        conn.executescript(script)
    assert cli(root, "fleet", "drift", "--env", "prod").exit_code == 0


def test_drift_of_many_tenants_details_the_first_few(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 5)
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    for tenant in ("t001", "t002", "t004"):
        with sqlite3.connect(root / "db" / f"{tenant}.db") as conn:
            conn.execute("CREATE TABLE scratch (id INTEGER)")
    result = cli(root, "fleet", "drift", "--env", "prod", "--limit", "1")
    assert result.exit_code == 2
    assert result.stdout.count("table scratch: only in the tenant") == 1
    for tenant in ("t001", "t002", "t004"):
        assert f"{tenant}: differs from the template (1 difference)" in result.stdout
    assert "details shown for the first 1 of 3 differing tenants" in result.stdout
    bad = cli(root, "fleet", "drift", "--env", "prod", "--fix-sql", str(root / "dbfleet.toml"))
    assert bad.exit_code == 1 and "--fix-sql" in bad.stderr and "not a folder" in bad.stderr


def test_fleet_repair_fixes_the_chosen_tenants_and_records_the_run(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 3)
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    nothing = cli(root, "fleet", "repair", "--env", "prod")
    assert nothing.exit_code == 0 and "nothing to repair" in nothing.stderr
    # a failed row left behind by hand, and an edited file: what `dbfleet repair` fixes
    with sqlite3.connect(root / "db" / "t001.db") as conn:
        conn.execute("UPDATE dbfleet_schema_history SET success = 0 WHERE version = '2'")
    v1 = root / "migrations" / "V1__accounts.sql"
    v1.write_text(v1.read_text() + "-- reviewed\n")
    result = cli(root, "fleet", "repair", "--env", "prod", "--tenant", "t001", "--template")
    assert result.exit_code == 0, result.output
    assert "t001: removed the failed entry of V2__plans.sql" in result.stderr
    assert "(template): realigned the checksum and description of V1__accounts.sql" in (
        result.stderr
    )
    assert "repaired 2 database(s): 2 changed, 0 unchanged, 0 failed" in result.stderr
    assert [r[0] for r in history(tenant_url(root, "t001"))] == ["1", None]
    with sqlite3.connect(root / ".dbfleet" / "state.db") as conn:
        runs = conn.execute(
            "SELECT r.result, t.target, t.result FROM runs r JOIN run_targets t "
            "ON t.run_id = r.id WHERE r.command = 'fleet repair' ORDER BY t.target"
        ).fetchall()
    assert runs == [("ok", "(template)", "repaired"), ("ok", "t001", "repaired")]
    (root / "db" / "t002.db").unlink()
    (root / "db" / "t002.db").mkdir()  # a database that cannot be opened
    broken = cli(root, "fleet", "repair", "--env", "prod", "--tenant", "t002", "--json")
    assert broken.exit_code == 1
    [row] = json.loads(broken.stdout)["databases"]
    assert row["tenant"] == "t002" and row["error"]
    unknown = cli(root, "fleet", "repair", "--env", "prod", "--tenant", "nope")
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    assert [line for line in unknown.stderr.splitlines() if line.strip()] == [
        "error: --tenant: no enabled tenant with id 'nope' "
        "(`dbfleet fleet status` lists the tenants; --template repairs the template)"
    ]


def test_sigkill_mid_rollout_then_resume_migrates_every_tenant_exactly_once(
    tmp_path: Path,
) -> None:
    migrations = {
        f"V{i}__step{i}.sql": f"CREATE TABLE step{i} (id INTEGER);\n" + SLOW.format(n=150000)
        for i in range(1, 4)
    }
    root = fleet_project(tmp_path, 24, migrations=migrations, fleet="concurrency = 2")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBFLEET_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbfleet", "-C", str(root), "fleet", "migrate", "--env", "prod"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            done = sum(1 for _, s, _ in ledger(root) if s == "done")
        except sqlite3.Error:
            continue
        if done >= 5:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    statuses = [s for _, s, _ in ledger(root)]
    assert "pending" in statuses, "the rollout finished before it was killed"
    result = cli_process(root, "fleet", "resume", "--env", "prod")
    assert result.exit_code == 0, result.output
    assert {s for _, s, _ in ledger(root)} == {"done"}
    for i in range(24):
        versions = [r[0] for r in history(tenant_url(root, f"t{i:03}"))]
        assert versions == ["1", "2", "3"]
    verify = cli_process(root, "fleet", "verify", "--env", "prod")
    assert verify.exit_code == 0, verify.output
    assert "0 disagreement(s)" in verify.stderr


def test_a_tenant_over_its_timeout_is_stopped_and_failed(tmp_path: Path) -> None:
    root = fleet_project(
        tmp_path,
        2,
        fleet='tenant_timeout = "300ms"\nmax_failures = 5',
        migrations={"V1__slow.sql": "CREATE TABLE a (id INTEGER);\n" + SLOW.format(n=10**9)},
    )
    started = time.monotonic()
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    assert "the template failed" in result.stderr
    assert "timed out after 0.3s (at V1__slow.sql)" in result.stderr
    assert history(tenant_url(root, "template")) == []  # rolled back, nothing recorded


def test_a_slow_tenant_times_out_the_rollout_goes_on_and_retry_finishes_it(
    tmp_path: Path,
) -> None:
    """t001's migration counts to a billion (minutes): interrupted at the 1 s tenant_timeout,
    rolled back, the failure recorded in the ledger; the others are migrated meanwhile."""
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < (SELECT coalesce(max(n), 0) FROM settings)) SELECT count(*) FROM c;\n"
    )
    root = fleet_project(
        tmp_path,
        4,
        fleet='tenant_timeout = "1s"\nmax_failures = 1\nconcurrency = 2',
        migrations={
            "V1__settings.sql": "CREATE TABLE settings (n INTEGER);\n",
            "V2__count.sql": "CREATE TABLE b (id INTEGER);\n" + slow,
            "V3__c.sql": "CREATE TABLE c (id INTEGER);\n",
        },
    )
    assert cli(root, "fleet", "migrate", "--env", "prod", "--target", "1").exit_code == 0
    with sqlite3.connect(root / "db" / "t001.db") as conn:
        conn.execute("INSERT INTO settings VALUES (1000000000)")
    started = time.monotonic()
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert time.monotonic() - started < 15
    assert result.exit_code == 1, result.output
    assert "FAILED  t001: timed out after 1s (at V2__count.sql)" in result.stderr
    assert "3 ok, 1 failed" in result.stderr
    assert [r[0] for r in history(tenant_url(root, "t001"))] == ["1"]  # V2 rolled back
    for tenant in ("t000", "t002", "t003"):
        assert [r[0] for r in history(tenant_url(root, tenant))] == ["1", "2", "3"]
    with sqlite3.connect(root / ".dbfleet" / "state.db") as conn:
        rows = conn.execute(
            "SELECT l.status, l.error FROM fleet_ledger l JOIN rollouts r ON r.id = l.rollout_id "
            "WHERE l.tenant = 't001' ORDER BY r.started_at DESC LIMIT 1"
        ).fetchall()
    assert rows[0][0] == "failed" and rows[0][1].startswith("timed out after 1s (at V2__count")
    with sqlite3.connect(root / "db" / "t001.db") as conn:
        conn.execute("DELETE FROM settings")
    retry = cli(root, "fleet", "retry", "--failed", "--env", "prod")
    assert retry.exit_code == 0, retry.output
    assert [r[0] for r in history(tenant_url(root, "t001"))] == ["1", "2", "3"]


def test_many_quick_migrations_stop_between_migrations_at_the_timeout(tmp_path: Path) -> None:
    migrations = {
        f"V{i}__step{i}.sql": f"CREATE TABLE s{i} (id INTEGER);\n" + SLOW.format(n=150000)
        for i in range(1, 61)
    }
    root = fleet_project(tmp_path, 1, fleet='tenant_timeout = "1500ms"', migrations=migrations)
    started = time.monotonic()
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert time.monotonic() - started < 5, "the 60 migrations ran to the end"
    assert result.exit_code == 1 and "the template failed" in result.stderr
    rows = history(tenant_url(root, "template"))
    assert 2 <= len(rows) < 60 and all(r[2] for r in rows), rows
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    following = f"V{len(rows) + 1}__step{len(rows) + 1}.sql"
    assert f"timed out after 1.5s (at {following})" in result.stderr


def test_tenant_and_group_limit_the_rollout(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 6)
    one = cli(root, "fleet", "migrate", "--env", "prod", "--tenant", "t002")
    assert one.exit_code == 0 and "1 ok, 0 failed" in one.stderr
    eu = cli(root, "fleet", "migrate", "--env", "prod", "--group", "eu")
    assert eu.exit_code == 0 and "3 ok, 0 failed" in eu.stderr  # t001, t003, t005
    assert not (root / "db" / "t004.db").exists()
    unknown = cli(root, "fleet", "migrate", "--env", "prod", "--tenant", "nope")
    assert unknown.exit_code == 1 and "no enabled tenant with id 'nope'" in unknown.stderr
    pending = json.loads(
        cli(root, "fleet", "status", "--env", "prod", "--only", "pending", "--json").stdout
    )
    assert sorted(t["tenant"] for t in pending["tenants"]) == ["t000", "t004"]
    outdated = json.loads(
        cli(root, "fleet", "status", "--env", "prod", "--only", "outdated", "--json").stdout
    )
    assert sorted(t["tenant"] for t in outdated["tenants"]) == ["t000", "t004"]
    assert outdated["template_version"] == "2"


def test_ctrl_c_marks_the_rollout_interrupted_and_resume_finishes_it(tmp_path: Path) -> None:
    migrations = {"V1__slow.sql": "CREATE TABLE a (id INTEGER);\n" + SLOW.format(n=150000)}
    root = fleet_project(tmp_path, 16, migrations=migrations, fleet="concurrency = 2")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBFLEET_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbfleet", "-C", str(root), "fleet", "migrate", "--env", "prod"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            if sum(1 for _, s, _ in ledger(root) if s == "done") >= 3:
                break
        except sqlite3.Error:
            continue
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    with sqlite3.connect(root / ".dbfleet" / "state.db") as conn:
        assert conn.execute("SELECT status FROM rollouts").fetchall() == [("interrupted",)]
    assert cli(root, "fleet", "resume", "--env", "prod").exit_code == 0
    assert {s for _, s, _ in ledger(root)} == {"done"}
    for i in range(16):
        assert [r[0] for r in history(tenant_url(root, f"t{i:03}"))] == ["1"]


def test_wave_n_runs_the_template_and_that_wave_only(tmp_path: Path) -> None:
    root = fleet_project(tmp_path, 5, fleet='waves = ["canary", "100%"]')
    result = cli(root, "fleet", "migrate", "--env", "prod", "--wave", "1")
    assert result.exit_code == 0, result.output
    assert "1 ok, 0 failed" in result.stderr
    assert (root / "db" / "t000.db").exists() and not (root / "db" / "t001.db").exists()
    bad = cli(root, "fleet", "migrate", "--env", "prod", "--wave", "3")
    assert bad.exit_code == 1 and "--wave 3: this fleet has 2 wave(s)" in bad.stderr
