"""Fleet rollout benchmark: N tenant databases on a local PostgreSQL, M small migrations each.

Measures the wall time of `fleet migrate` (template + N tenants) at several concurrencies,
tenants per second, and dbfleet's per-tenant overhead against the same SQL sent through one
`psql` call per tenant (sequential: the floor of "a shell loop over the tenants").

    .venv/bin/python benchmarks/fleet_bench.py                    # 200 tenants, c = 1, 4, 8, 16
    .venv/bin/python benchmarks/fleet_bench.py --tenants 50 --concurrency 1 8

Creates databases named dbfleet_fbench_<pid>_NNN and drops them afterwards (WITH (FORCE)).
The Markdown table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def migrations(count: int) -> dict[str, str]:
    files = {}
    for i in range(1, count + 1):
        if i % 3 == 1:
            sql = f"CREATE TABLE item_{i} (id integer PRIMARY KEY, name text NOT NULL);\n"
        elif i % 3 == 2:
            sql = f"ALTER TABLE item_{i - 1} ADD COLUMN amount numeric DEFAULT 0;\n"
        else:
            sql = f"CREATE INDEX item_{i - 2}_name ON item_{i - 2} (name);\n"
        files[f"V{i}__step_{i}.sql"] = sql
    return files


def psql_script(files: dict[str, str]) -> str:
    """The same work as dbfleet: a history table, then each migration + its history row in its
    own transaction."""
    out = [
        "CREATE TABLE IF NOT EXISTS floor_history (rank serial PRIMARY KEY, version text, "
        "script text, installed_on timestamptz DEFAULT now(), success boolean);"
    ]
    for name, sql in files.items():
        version = name[1:].split("__", 1)[0]
        out += [
            "BEGIN;",
            sql.strip(),
            "INSERT INTO floor_history (version, script, success) "
            f"VALUES ('{version}', '{name}', true);",
            "COMMIT;",
        ]
    return "\n".join(out) + "\n"


def _cpu() -> float:
    """CPU seconds (user + system) this process has used: the client's own work."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset(urls: list[str], server: str) -> None:
    """Empty every tenant again, then CHECKPOINT so that each run starts with a clean WAL."""
    for url in urls:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--migrations", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--repeat", type=int, default=3, help="Rounds (median reported).")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    from dbfleet.config import load_project
    from dbfleet.fleet.rollout import MIGRATE, Selection, start
    from dbfleet.fleet.settings import fleet_settings
    from dbfleet.state import StateStore

    base = args.server.rsplit("/", 1)[0]
    names = [f"dbfleet_fbench_{os.getpid()}_{i:03}" for i in range(args.tenants + 1)]
    urls = [f"{base}/{n}" for n in names]
    files = migrations(args.migrations)
    results: list[tuple[int, float]] = []
    spread: dict[int, tuple[float, float]] = {}
    cpu_per_tenant: dict[str, float] = {}
    floor = driver = 0.0
    with tempfile.TemporaryDirectory(prefix="dbfleet-fbench-") as folder:
        root = Path(folder)
        log(f"creating {len(names)} databases")
        with psycopg.connect(args.server, autocommit=True) as conn:
            for n in names:
                conn.execute(f'CREATE DATABASE "{n}"')
        try:
            (root / "migrations").mkdir()
            for name, sql in files.items():
                (root / "migrations" / name).write_text(sql)
            (root / "tenants.csv").write_text(
                "id,url\n" + "".join(f"t{i:03},{u}\n" for i, u in enumerate(urls[1:]))
            )
            script = root / "floor.sql"
            script.write_text(psql_script(files))

            def floor_run() -> float:
                reset(urls[1:], args.server)
                started = time.perf_counter()
                for url in urls[1:]:
                    subprocess.run(
                        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(script)],
                        check=True,
                        stdout=subprocess.DEVNULL,
                    )
                return time.perf_counter() - started

            def driver_run() -> float:
                """The same SQL in-process: one psycopg connection per tenant, no tool."""
                reset(urls[1:], args.server)
                text = script.read_text()
                cpu = _cpu()
                started = time.perf_counter()
                for url in urls[1:]:
                    with psycopg.connect(url, autocommit=True) as conn:
                        conn.execute(text.encode(), prepare=False)
                wall = time.perf_counter() - started
                driver_cpu.append(_cpu() - cpu)
                return wall

            def fleet_run(concurrency: int) -> float:
                (root / "dbfleet.toml").write_text(
                    '[project]\nname = "bench"\n\n[environments.bench.fleet]\n'
                    f'template = "{urls[0]}"\nconcurrency = {concurrency}\n'
                    "per_server_concurrency = 64\n\n"
                    '[environments.bench.fleet.registry]\nfile = "tenants.csv"\n'
                )
                reset(urls, args.server)
                project = load_project(root / "dbfleet.toml")
                env = project.environment("bench")
                settings = fleet_settings(project, env)
                with StateStore.open(project) as store:
                    cpu = _cpu()
                    started = time.perf_counter()
                    report = start(
                        project,
                        env,
                        settings,
                        store,
                        action=MIGRATE,
                        version=None,
                        selection=Selection(),
                        events=lambda event, **fields: None,
                    )
                    wall = time.perf_counter() - started
                    fleet_cpu.setdefault(concurrency, []).append(_cpu() - cpu)
                assert report.ok, [o.error for o in report.summary.failed][:3]
                return wall

            floors: list[float] = []
            drivers: list[float] = []
            driver_cpu: list[float] = []
            fleet_cpu: dict[int, list[float]] = {}
            walls: dict[int, list[float]] = {c: [] for c in args.concurrency}
            # Rounds interleave every configuration, so a noisy spell hits them alike.
            for round_ in range(1, args.repeat + 1):
                floors.append(floor_run())
                log(f"round {round_}: psql floor {floors[-1]:.2f} s")
                drivers.append(driver_run())
                log(f"round {round_}: psycopg floor {drivers[-1]:.2f} s")
                for concurrency in args.concurrency:
                    walls[concurrency].append(fleet_run(concurrency))
                    log(f"round {round_}: concurrency {concurrency} {walls[concurrency][-1]:.2f} s")
            floor = statistics.median(floors)
            driver = statistics.median(drivers)
            results = [(c, statistics.median(w)) for c, w in walls.items()]
            spread = {c: (min(w), max(w)) for c, w in walls.items()}
            cpu_per_tenant = {
                "psycopg floor": statistics.median(driver_cpu) / args.tenants,
                **{
                    f"dbfleet c={c}": statistics.median(v) / (args.tenants + 1)
                    for c, v in fleet_cpu.items()
                },
            }
        finally:
            with psycopg.connect(args.server, autocommit=True) as conn:
                for n in names:
                    conn.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')

    n = args.tenants
    one = dict(results).get(1)
    print(f"{n} tenants + template, {args.migrations} migrations each, PostgreSQL on 127.0.0.1\n")
    print(f"median of {args.repeat} interleaved rounds (min-max in brackets)\n")
    print("| run | wall time | tenants/s | speed-up vs c=1 |")
    print("|---|---:|---:|---:|")
    floor_row = "psql floor (one `psql -f` per tenant, sequential)"
    print(f"| {floor_row} | {floor:.2f} s | {n / floor:.1f} | |")
    driver_row = "psycopg floor (one connection per tenant, same SQL, sequential, in-process)"
    print(f"| {driver_row} | {driver:.2f} s | {n / driver:.1f} | |")
    for concurrency, wall in results:
        speed = f"{one / wall:.2f}x" if one else ""
        rate = (n + 1) / wall
        low, high = spread[concurrency]
        print(
            f"| dbfleet concurrency {concurrency} | {wall:.2f} s ({low:.2f}-{high:.2f}) "
            f"| {rate:.1f} | {speed} |"
        )
    if one:
        overhead = (one / (n + 1) - floor / n) * 1000
        print(
            f"\nper-tenant overhead of dbfleet at c=1 vs the psql floor: {overhead:.1f} ms "
            f"({one / (n + 1) * 1000:.1f} ms vs {floor / n * 1000:.1f} ms per tenant)"
        )
        print(
            "per-tenant overhead of dbfleet at c=1 vs the psycopg floor: "
            f"{(one / (n + 1) - driver / n) * 1000:.1f} ms"
        )
    print("\nclient CPU per tenant (this process, user + system; immune to server noise):\n")
    for label, seconds in cpu_per_tenant.items():
        print(f"- {label}: {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
