"""Fleet reliability on real servers: PostgreSQL (50+ tenants) and MariaDB tenants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import cli, history, query


def _server_url(server: str, name: str) -> str:
    base, _, params = server.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{params}" if params else "")


@pytest.fixture
def pg_tenants(postgres_server: str, request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """`count` fresh PostgreSQL databases (parametrized indirectly) and a template, dropped after."""
    import psycopg

    count = getattr(request, "param", 4)
    prefix = f"dbfleet_fleet_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{i:03}" for i in range(count + 1)]  # the last one is the template
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield [_server_url(postgres_server, n) for n in names]
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mysql_tenants(mysql_server: str) -> Iterator[list[str]]:
    import pymysql

    from dbfleet.dburl import parse_url

    parsed = parse_url(mysql_server)
    prefix = f"dbfleet_fleet_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{i}" for i in range(5)]
    conn = pymysql.connect(
        host=parsed.host,
        port=parsed.port or 3306,
        user=parsed.user,
        password=parsed.password or "",
        autocommit=True,
    )
    try:
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute(f"CREATE DATABASE `{name}`")
        yield [parsed.with_database(n).full for n in names]
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


def project_for(
    root: Path, urls: list[str], migrations: dict[str, str], fleet: str = "", rows: str = ""
) -> Path:
    """A `prod` fleet: the last URL is the template, the others tenants t000, t001, ..."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbfleet.toml").write_text(
        '[project]\nname = "fleet"\n\n[environments.prod.fleet]\n'
        f'template = "{urls[-1]}"\n{fleet}\n'
        '[environments.prod.fleet.registry]\nfile = "tenants.csv"\n',
        encoding="utf-8",
    )
    lines = ["id,url"] + [f"t{i:03},{u}" for i, u in enumerate(urls[:-1])]
    (root / "tenants.csv").write_text("\n".join(lines) + "\n" + rows, encoding="utf-8")
    (root / "migrations").mkdir(exist_ok=True)
    for name, text in migrations.items():
        (root / "migrations" / name).write_text(text, encoding="utf-8")
    return root


def ledger_rows(root: Path) -> dict[str, tuple[str, int]]:
    import sqlite3

    with sqlite3.connect(root / ".dbfleet" / "state.db") as conn:
        rows = conn.execute(
            "SELECT l.tenant, l.status, l.attempts FROM fleet_ledger l JOIN rollouts r "
            "ON r.id = l.rollout_id ORDER BY r.started_at"
        ).fetchall()
    return {t: (s, a) for t, s, a in rows}


BILLING = {
    "V1__invoices.sql": "CREATE TABLE invoices (id serial PRIMARY KEY, amount integer NOT NULL);\n",
    "V2__positive.sql": "ALTER TABLE invoices ADD CONSTRAINT amount_positive CHECK (amount >= 0);\n",
    "R__totals.sql": "CREATE OR REPLACE VIEW totals AS SELECT sum(amount) AS total FROM invoices;\n",
}


@pytest.mark.parametrize("pg_tenants", [52], indirect=True)
def test_fifty_tenants_one_with_bad_data_is_isolated_then_retried(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    root = project_for(tmp_path, pg_tenants, BILLING, fleet='concurrency = 8\nmax_failures = "5%"')
    assert cli(root, "fleet", "migrate", "--env", "prod", "--target", "1").exit_code == 0
    bad = pg_tenants[17]
    query(bad, "INSERT INTO invoices (amount) VALUES (-5)")
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 1, result.output
    assert "FAILED  t017" in result.stderr and "amount_positive" in result.stderr
    assert "51 ok, 1 failed" in result.stderr
    assert [r[0] for r in history(bad)] == ["1"]  # rolled back: at a version boundary
    assert ledger_rows(root)["t017"] == ("failed", 1)
    assert all(h == "2" for h in (history(u)[1][0] for u in pg_tenants[:17]))
    query(bad, "UPDATE invoices SET amount = 5")
    retry = cli(root, "fleet", "retry", "--failed", "--env", "prod")
    assert retry.exit_code == 0, retry.output
    assert [r[0] for r in history(bad)] == ["1", "2", None]
    assert ledger_rows(root)["t017"] == ("done", 2)
    verify = cli(root, "fleet", "verify", "--env", "prod")
    assert verify.exit_code == 0, verify.output


@pytest.mark.parametrize("pg_tenants", [6], indirect=True)
def test_a_tenant_connection_killed_mid_migration_fails_alone_and_is_retryable(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    migrations = {
        "V1__a.sql": "CREATE TABLE a (id integer);\n",
        "V2__slow.sql": "CREATE TABLE b (id integer);\nSELECT pg_sleep(1.5);\n",
    }
    root = project_for(tmp_path, pg_tenants, migrations, fleet="concurrency = 6\nmax_failures = 2")
    victim = pg_tenants[2].rsplit("/", 1)[1]
    killed: list[int] = []

    def kill() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            rows = query(
                pg_tenants[-1].rsplit("/", 1)[0] + "/postgres",
                "SELECT pid FROM pg_stat_activity WHERE datname = '" + victim + "' "
                "AND query LIKE '%pg_sleep%' AND state = 'active'",
            )
            for (pid,) in rows:
                query(
                    pg_tenants[-1].rsplit("/", 1)[0] + "/postgres",
                    f"SELECT pg_terminate_backend({pid})",
                )
                killed.append(pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill)
    killer.start()
    result = cli(root, "fleet", "migrate", "--env", "prod")
    killer.join()
    assert killed, "the tenant's migration was never seen running"
    assert result.exit_code == 1
    assert "FAILED  t002" in result.stderr and "5 ok, 1 failed" in result.stderr
    assert [r[0] for r in history(pg_tenants[2])] == ["1"]
    assert query(pg_tenants[2], "SELECT to_regclass('b') IS NULL") == [(True,)]
    retry = cli(root, "fleet", "retry", "--failed", "--env", "prod")
    assert retry.exit_code == 0, retry.output
    assert [r[0] for r in history(pg_tenants[2])] == ["1", "2"]


@pytest.mark.parametrize("pg_tenants", [10], indirect=True)
def test_two_fleet_migrates_at_once_migrate_each_tenant_once(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    migrations = {
        f"V{i}__s{i}.sql": f"CREATE TABLE s{i} (id integer);\nSELECT pg_sleep(0.05);\n"
        for i in range(1, 4)
    }
    root = project_for(tmp_path, pg_tenants, migrations, fleet="concurrency = 4")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBFLEET_")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dbfleet", "-C", str(root), "fleet", "migrate", "--env", "prod"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in outputs] == [0, 0], outputs
    for url in pg_tenants:
        assert [r[0] for r in history(url)] == ["1", "2", "3"]
    assert cli(root, "fleet", "verify", "--env", "prod").exit_code == 0
    assert cli(root, "fleet", "drift", "--env", "prod").exit_code == 0
    query(pg_tenants[4], "ALTER TABLE s2 ADD COLUMN hotfix text")
    drift = cli(root, "fleet", "drift", "--env", "prod")
    assert drift.exit_code == 2
    assert "t004: differs from the template" in drift.stdout and "hotfix" in drift.stdout


@pytest.mark.parametrize("pg_tenants", [3], indirect=True)
def test_malicious_id_and_unreachable_url_on_postgres(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    evil = 'x"; drop table t; --'
    migrations = {
        "V1__t.sql": "CREATE TABLE t (owner text);\nINSERT INTO t VALUES (${tenant});\n",
    }
    rows = (
        f'"{evil.replace(chr(34), chr(34) * 2)}",{pg_tenants[2]}\n'
        "gone,postgresql://postgres@127.0.0.1:1/nowhere\n"
    )
    urls = [pg_tenants[0], pg_tenants[1], pg_tenants[3]]
    root = project_for(tmp_path, urls, migrations, fleet="max_failures = 1", rows=rows)
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 1
    assert "FAILED  gone: cannot connect" in result.stderr
    assert query(pg_tenants[2], "SELECT owner FROM t") == [(evil,)]
    assert query(pg_tenants[0], "SELECT owner FROM t") == [("t000",)]
    status = json.loads(cli(root, "fleet", "status", "--env", "prod", "--json").stdout)
    by_id = {t["tenant"]: t for t in status["tenants"]}
    assert by_id["gone"]["failed"] and by_id[evil]["version"] == "1"


@pytest.mark.parametrize("pg_tenants", [3], indirect=True)
def test_schema_mode_puts_each_tenant_in_its_own_schema(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "dbfleet.toml").write_text(
        f'[project]\nname = "s"\n\n[environments.prod]\nurl = "{pg_tenants[0]}"\n\n'
        '[environments.prod.fleet]\nmode = "schema"\ntemplate = "template"\n\n'
        "[environments.prod.fleet.registry]\n"
        'tenants = [{ id = "acme" }, { id = "Weird \\"one\\"; drop schema public; --" }]\n',
        encoding="utf-8",
    )
    (root / "migrations").mkdir()
    (root / "migrations" / "V1__t.sql").write_text(
        "CREATE TABLE ${tenant_schema}.accounts (id integer);\n"
        "INSERT INTO ${tenant_schema}.accounts VALUES (1);\n"
    )
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 0, result.output
    schemas = {
        r[0]
        for r in query(
            pg_tenants[0],
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'accounts'",
        )
    }
    assert schemas == {"template", "acme", 'Weird "one"; drop schema public; --'}
    assert query(pg_tenants[0], "SELECT count(*) FROM acme.dbfleet_schema_history") == [(1,)]

    # init_sql puts each tenant's schema first on its connection: unqualified names land there
    config = root / "dbfleet.toml"
    config.write_text(
        config.read_text().replace(
            'mode = "schema"\n',
            'mode = "schema"\ninit_sql = "SET search_path TO ${tenant_schema}"\n',
        )
    )
    (root / "migrations" / "V2__plans.sql").write_text("CREATE TABLE plans (id integer);\n")
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    plans = query(
        pg_tenants[0],
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'plans'",
    )
    assert {r[0] for r in plans} == {"template", "acme", 'Weird "one"; drop schema public; --'}
    (root / "smoke.sql").write_text("SELECT count(*) FROM accounts;\n")
    smoke = cli(root, "fleet", "exec", "--env", "prod", "smoke.sql")
    assert smoke.exit_code == 0, smoke.output
    drift = cli(root, "fleet", "drift", "--env", "prod")  # the odd schema name compares too
    assert drift.exit_code == 0 and "2 tenant(s) compared" in drift.stdout, drift.output


def test_schema_mode_drift_compares_each_tenant_schema_with_the_template(
    tmp_path: Path, pg_url: str
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "dbfleet.toml").write_text(
        f'[project]\nname = "s"\n\n[environments.prod]\nurl = "{pg_url}"\n\n'
        '[environments.prod.fleet]\nmode = "schema"\ntemplate = "template"\n\n'
        "[environments.prod.fleet.registry]\n"
        'tenants = [{ id = "acme" }, { id = "globex" }, { id = "Initech Ltd" }]\n',
        encoding="utf-8",
    )
    (root / "migrations").mkdir()
    (root / "migrations" / "V1__billing.sql").write_text(
        "CREATE TYPE ${tenant_schema}.state AS ENUM ('open', 'paid');\n"
        "CREATE TABLE ${tenant_schema}.customers (id serial PRIMARY KEY, name text);\n"
        "CREATE TABLE ${tenant_schema}.invoices (id serial PRIMARY KEY,\n"
        "  customer integer REFERENCES ${tenant_schema}.customers (id),\n"
        "  state ${tenant_schema}.state NOT NULL DEFAULT 'open', amount integer);\n"
        "CREATE INDEX invoices_customer ON ${tenant_schema}.invoices (customer);\n"
        "CREATE VIEW ${tenant_schema}.open_invoices AS\n"
        "  SELECT id, amount FROM ${tenant_schema}.invoices WHERE state = 'open';\n"
        "CREATE FUNCTION ${tenant_schema}.total() RETURNS bigint LANGUAGE sql\n"
        "  AS 'SELECT sum(amount) FROM ${tenant_schema}.invoices';\n"
    )
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    same = cli(root, "fleet", "drift", "--env", "prod")
    assert same.exit_code == 0, same.output
    assert "3 tenant(s) compared with the template" in same.stdout and "0 differ" in same.stdout
    query(pg_url, "ALTER TABLE globex.invoices ADD COLUMN hotfix text")
    result = cli(root, "fleet", "drift", "--env", "prod", "--fix-sql", "-")
    assert result.exit_code == 2, result.output
    assert "globex: differs from the template (1 difference)" in result.stdout
    assert "  column globex.invoices.hotfix: only in the tenant" in result.stdout
    assert "acme: differs" not in result.stdout and "Initech Ltd: differs" not in result.stdout
    assert "-- to bring globex back to the template" in result.stdout
    assert "ALTER TABLE globex.invoices DROP COLUMN hotfix" in result.stdout
    assert "1 differ" in result.stdout
    data = json.loads(cli(root, "fleet", "drift", "--env", "prod", "--json").stdout)
    by_id = {t["tenant"]: t for t in data["tenants"]}
    assert by_id["acme"]["fingerprint"] == by_id["Initech Ltd"]["fingerprint"]
    assert by_id["acme"]["fingerprint"] == data["template_fingerprint"]
    assert not by_id["globex"]["matches"]
    assert by_id["globex"]["differences"] == [
        {"kind": "column", "object": "globex.invoices.hotfix", "what": "only in the tenant"}
    ]
    assert "ALTER TABLE globex.invoices DROP COLUMN hotfix" in by_id["globex"]["fix_sql"]


def test_mariadb_tenants_roll_out_and_verify(tmp_path: Path, mysql_tenants: list[str]) -> None:
    migrations = {
        "V1__a.sql": "CREATE TABLE a (id int);\n",
        "V2__b.sql": "CREATE TABLE b (id int);\n",
    }
    root = project_for(tmp_path, mysql_tenants, migrations, fleet="concurrency = 4")
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 0, result.output
    for url in mysql_tenants:
        assert [r[0] for r in history(url)] == ["1", "2"]
    assert cli(root, "fleet", "verify", "--env", "prod").exit_code == 0
    assert cli(root, "fleet", "drift", "--env", "prod").exit_code == 0


def test_a_half_applied_mariadb_migration_is_repaired_then_retried(
    tmp_path: Path, mysql_tenants: list[str]
) -> None:
    """MariaDB DDL commits as it goes: a failed V2 leaves a failed history row that
    `fleet repair` removes, so `fleet retry --failed` can run V2 again once the data is fixed."""
    migrations = {
        "V1__a.sql": "CREATE TABLE a (id int);\n",
        "V2__b.sql": "CREATE TABLE IF NOT EXISTS b (id int);\nALTER TABLE a ADD UNIQUE KEY a_id (id);\n",
    }
    root = project_for(tmp_path, mysql_tenants, migrations, fleet="max_failures = 1")
    assert cli(root, "fleet", "migrate", "--env", "prod", "--target", "1").exit_code == 0
    bad = mysql_tenants[1]  # t001
    query(bad, "INSERT INTO a VALUES (7), (7)")
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 1 and "FAILED  t001" in result.stderr
    assert history(bad) == [("1", "SQL", True), ("2", "SQL", False)]
    assert "b" in {r[0] for r in query(bad, "SHOW TABLES")}  # the DDL before the failure stayed
    query(bad, "DELETE FROM a")
    refused = cli(root, "fleet", "retry", "--failed", "--env", "prod")
    assert refused.exit_code == 1 and "FAILED  t001" in refused.stderr  # the failed row blocks
    repaired = cli(root, "fleet", "repair", "--env", "prod")
    assert repaired.exit_code == 0, repaired.output
    assert "t001: removed the failed entry of V2__b.sql" in repaired.stderr
    assert "repaired 1 database(s): 1 changed, 0 unchanged, 0 failed" in repaired.stderr
    assert history(bad) == [("1", "SQL", True)]
    retry = cli(root, "fleet", "retry", "--failed", "--env", "prod")
    assert retry.exit_code == 0, retry.output
    assert history(bad) == [("1", "SQL", True), ("2", "SQL", True)]
    assert cli(root, "fleet", "verify", "--env", "prod").exit_code == 0
    again = cli(root, "fleet", "repair", "--env", "prod")
    assert again.exit_code == 0 and "nothing to repair" in again.stderr


def test_a_mariadb_tenant_over_its_timeout_is_stopped_mid_statement(
    tmp_path: Path, mysql_tenants: list[str]
) -> None:
    """KILL QUERY from a second connection stops the statement: no waiting for it to return."""
    migrations = {"V1__slow.sql": "CREATE TABLE a (id int);\nSELECT SLEEP(30);\n"}
    root = project_for(
        tmp_path, mysql_tenants, migrations, fleet='tenant_timeout = "2s"\nmax_failures = 5'
    )
    started = time.monotonic()
    result = cli(root, "fleet", "migrate", "--env", "prod")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert elapsed < 15, f"took {elapsed:.1f} s: the SLEEP(30) was not interrupted"
    assert "the template failed" in result.stderr
    assert "timed out after 2s (at V1__slow.sql)" in result.stderr
    template = mysql_tenants[-1]
    assert "Query execution was interrupted" in result.stderr
    # MariaDB DDL is not transactional: the migration is recorded as failed, to retry later.
    assert history(template) == [("1", "SQL", False)]
    processes = query(
        template,
        "SELECT count(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%'",
    )
    assert processes == [(0,)]


def test_tenants_from_an_admin_database_query(tmp_path: Path, pg_url: str) -> None:
    query(pg_url, "CREATE SCHEMA admmgt")
    query(
        pg_url,
        "CREATE TABLE admmgt.vendor_db_settings (tenant_id text, dsn text, region text, "
        "updateflag boolean, canary boolean)",
    )
    query(
        pg_url,
        "INSERT INTO admmgt.vendor_db_settings VALUES "
        f"('acme', 'sqlite:///{tmp_path}/acme.db', 'eu', true, true), "
        f"('globex', 'sqlite:///{tmp_path}/globex.db', 'us', true, false), "
        f"('retired', 'sqlite:///{tmp_path}/retired.db', 'us', false, false)",
    )
    root = tmp_path / "p"
    root.mkdir()
    (root / "dbfleet.toml").write_text(
        '[project]\nname = "a"\n\n[environments.prod.fleet]\n'
        f'template = "sqlite:///{tmp_path}/template.db"\nwaves = ["canary", "100%"]\n\n'
        f'[environments.prod.fleet.registry]\nurl = "{pg_url}"\n'
        'query = "select tenant_id as id, dsn as url, region as \\"group\\", '
        'updateflag as enabled, canary from admmgt.vendor_db_settings"\n',
        encoding="utf-8",
    )
    (root / "migrations").mkdir()
    (root / "migrations" / "V1__a.sql").write_text("CREATE TABLE a (id INTEGER);\n")
    result = cli(root, "fleet", "migrate", "--env", "prod")
    assert result.exit_code == 0, result.output
    assert "skipped (enabled = false): retired" in result.stderr
    assert "wave 1 (canary): 1 tenant(s)" in result.stderr
    assert (tmp_path / "globex.db").exists() and not (tmp_path / "retired.db").exists()
    bad = (root / "dbfleet.toml").read_text().replace("vendor_db_settings", "nope")
    (root / "dbfleet.toml").write_text(bad)
    failed = cli(root, "fleet", "status", "--env", "prod")
    assert failed.exit_code == 1 and "the tenant registry query on" in failed.stderr


@pytest.mark.parametrize("pg_tenants", [3], indirect=True)
def test_a_postgres_tenant_over_its_timeout_is_cancelled_mid_statement_then_retried(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    """tenant_timeout cancels the running statement: t001's 30 s sleep ends after ~2 s, its V2
    is rolled back, the other tenants go on, and `retry --failed` finishes it later."""
    migrations = {
        "V1__settings.sql": "CREATE TABLE settings (delay float);\n",
        "V2__slow.sql": "CREATE TABLE b (id int);\n"
        "SELECT pg_sleep(coalesce((SELECT max(delay) FROM settings), 0));\n",
        "V3__c.sql": "CREATE TABLE c (id int);\n",
    }
    root = project_for(
        tmp_path, pg_tenants, migrations, fleet='tenant_timeout = "2s"\nmax_failures = 1'
    )
    assert cli(root, "fleet", "migrate", "--env", "prod", "--target", "1").exit_code == 0
    slow = pg_tenants[1]  # t001
    query(slow, "INSERT INTO settings VALUES (30)")
    started = time.monotonic()
    result = cli(root, "fleet", "migrate", "--env", "prod")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert elapsed < 12, f"took {elapsed:.1f} s: the pg_sleep(30) was not cancelled"
    assert "FAILED  t001" in result.stderr
    assert "timed out after 2s (at V2__slow.sql)" in result.stderr
    assert "2 ok, 1 failed" in result.stderr
    assert history(slow) == [("1", "SQL", True)]  # V2 rolled back, V3 never started
    assert query(slow, "SELECT to_regclass('b') IS NULL") == [(True,)]
    assert query(
        slow,
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%'"
        " AND pid <> pg_backend_pid() AND datname = current_database()",
    ) == [(0,)]
    for url in (pg_tenants[0], pg_tenants[2]):
        assert [r[0] for r in history(url)] == ["1", "2", "3"]
    status = json.loads(cli(root, "fleet", "status", "--env", "prod", "--json").stdout)
    assert {t["tenant"]: t["version"] for t in status["tenants"]}["t001"] == "1"
    query(slow, "DELETE FROM settings")
    retry = cli(root, "fleet", "retry", "--failed", "--env", "prod")
    assert retry.exit_code == 0, retry.output
    assert [r[0] for r in history(slow)] == ["1", "2", "3"]


@pytest.mark.parametrize("pg_tenants", [1], indirect=True)
def test_a_postgres_tenant_with_many_quick_migrations_stops_between_them_at_its_timeout(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    migrations = {
        f"V{i}__step{i}.sql": f"CREATE TABLE s{i} (id int);\nSELECT pg_sleep(0.1);\n"
        for i in range(1, 41)
    }
    root = project_for(tmp_path, pg_tenants, migrations, fleet='tenant_timeout = "1500ms"')
    started = time.monotonic()
    result = cli(root, "fleet", "migrate", "--env", "prod")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert elapsed < 4.5, f"took {elapsed:.1f} s: 40 x 0.1 s ran to the end"
    assert "the template failed" in result.stderr
    rows = history(pg_tenants[-1])
    assert 3 <= len(rows) < 40 and all(ok for _, _, ok in rows), rows
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    stopped_at = f"V{len(rows) + 1}__step{len(rows) + 1}.sql"
    assert f"timed out after 1.5s (at {stopped_at})" in result.stderr


@pytest.mark.parametrize("pg_tenants", [3], indirect=True)
def test_postgres_drift_names_each_difference_and_the_sql_back_to_the_template(
    tmp_path: Path, pg_tenants: list[str]
) -> None:
    migrations = {
        "V1__invoices.sql": "CREATE TABLE invoices (id serial PRIMARY KEY, customer integer,"
        " amount integer NOT NULL);\nCREATE INDEX invoices_customer ON invoices (customer);\n",
    }
    root = project_for(tmp_path, pg_tenants, migrations)
    assert cli(root, "fleet", "migrate", "--env", "prod").exit_code == 0
    assert cli(root, "fleet", "drift", "--env", "prod").exit_code == 0
    changed = pg_tenants[1]  # t001
    query(changed, "ALTER TABLE invoices ADD COLUMN hotfix text")
    query(changed, "DROP INDEX invoices_customer")
    result = cli(root, "fleet", "drift", "--env", "prod")
    assert result.exit_code == 2, result.output
    assert "t001: differs from the template (2 differences)" in result.stdout
    assert "  column public.invoices.hotfix: only in the tenant" in result.stdout
    assert "  index public.invoices_customer: missing (the template has it)" in result.stdout
    assert "t000: differs" not in result.stdout and "t002: differs" not in result.stdout
    assert "3 tenant(s) compared with the template" in result.stdout
    data = json.loads(cli(root, "fleet", "drift", "--env", "prod", "--json").stdout)
    t001 = next(t for t in data["tenants"] if t["tenant"] == "t001")
    assert sorted(d["object"] for d in t001["differences"]) == [
        "public.invoices.hotfix",
        "public.invoices_customer",
    ]
    assert "DROP COLUMN hotfix" in t001["fix_sql"] and "CREATE INDEX" in t001["fix_sql"]
    folder = tmp_path / "fixes"
    written = cli(root, "fleet", "drift", "--env", "prod", "--fix-sql", str(folder))
    assert written.exit_code == 2 and (folder / "t001.sql").is_file()
    from dbfleet.dburl import parse_url
    from dbfleet.engines import connect, dialect_for

    script = (folder / "t001.sql").read_text()
    with connect(parse_url(changed)) as conn:
        for statement in dialect_for("postgresql").split(script):
            conn.execute(statement.text)
    assert cli(root, "fleet", "drift", "--env", "prod").exit_code == 0
