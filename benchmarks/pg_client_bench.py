"""Compare dbfleet builds or PostgreSQL clients on `migrate`, interleaved with the psql floor.

    .venv/bin/python benchmarks/pg_client_bench.py                       # this tree: libpq, psycopg
    .venv/bin/python benchmarks/pg_client_bench.py --variant before=/tmp/old/src \\
        --variant libpq=src:libpq --rounds 20 --instructions

A variant is NAME=SRC[:DRIVER]: the dbfleet sources put first on PYTHONPATH and, optionally,
DBFLEET_PG_DRIVER for the migration commands. Every round runs, for each variant in turn, an
apply of the N generated migrations to a fresh database, a no-op `migrate` and a `status
--json` on it; then the floor (migrate_bench.py's one psql session) on a fresh database. On a
shared machine one round's figures move together, so the report gives the fastest run of each
and the median of the per-round ratio to that round's floor. With --instructions, one run of
each command per variant is counted with valgrind (callgrind), which the machine's load hardly
moves. Needs psql, psycopg and a server where user postgres may CREATE DATABASE.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import migrate_bench as mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", help="NAME=SRC[:DRIVER], repeatable")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    args = parser.parse_args(argv)
    src = str(mb.ROOT / "src")
    variants = {}
    for spec in args.variant or [f"libpq={src}:libpq", f"psycopg={src}:psycopg"]:
        name, _, rest = spec.partition("=")
        folder, _, driver = rest.partition(":")
        variants[name] = (str(Path(folder).resolve()), driver)

    work = Path(tempfile.mkdtemp(prefix="dbfleet-pgclient-"))
    mb.configure_env(work / "pycache")
    base_env = dict(mb._ENV)
    bench_args = argparse.Namespace(
        dbfleet=str(Path(sys.executable).parent / "dbfleet"),
        psql="psql",
        pg_host=args.pg_host,
        pg_port=args.pg_port,
        pg_user=args.pg_user,
        count=args.count,
        seed=20261122,
        instructions=False,
    )
    bench = mb.Bench(bench_args, work)

    def use(name: str) -> None:
        folder, driver = variants[name]
        mb._ENV.clear()
        mb._ENV.update(base_env, PYTHONPATH=folder)
        if driver:
            mb._ENV["DBFLEET_PG_DRIVER"] = driver

    kinds = ("apply", "no-op", "status --json")
    times = {(v, k): [] for v in variants for k in kinds}
    floors: list[float] = []
    ratios: dict[str, list[float]] = {v: [] for v in variants}
    counted: dict[tuple[str, str], int] = {}
    for round_ in range(args.rounds + 1):  # round 0 warms caches up and is not counted
        applied: dict[str, float] = {}
        for name in variants:
            use(name)
            with bench.pg_database() as db:
                url = bench.pg_url(db)
                applied[name] = mb.run(bench.cli("migrate", "--url", url))[0]
                noop = mb.run(bench.cli("migrate", "--url", url))[0]
                status = mb.run(bench.cli("status", "--json", "--url", url))[0]
                if round_:
                    for kind, value in zip(kinds, (applied[name], noop, status), strict=True):
                        times[name, kind].append(value)
                if round_ == 1 and args.instructions:
                    for kind, command in (("no-op", "migrate"), ("status --json", "status")):
                        extra = ["--json"] if command == "status" else []
                        got = mb.instructions(bench.cli(command, *extra, "--url", url))
                        counted[name, kind] = got or 0
            if round_ == 1 and args.instructions:
                with bench.pg_database() as db:
                    got = mb.instructions(bench.cli("migrate", "--url", bench.pg_url(db)))
                    counted[name, "apply"] = got or 0
        mb._ENV.clear()
        mb._ENV.update(base_env)
        with bench.pg_database() as db:
            floor = mb.run(bench.psql(db, "-f", str(bench.floor_file)))[0]
        if round_:
            floors.append(floor)
            for name in variants:
                ratios[name].append(applied[name] / floor)
        print(
            f"round {round_}: floor {floor:.3f} s, "
            + ", ".join(f"{n} {applied[n]:.3f} s" for n in variants),
            file=sys.stderr,
            flush=True,
        )

    print(f"{args.count} migrations, {args.rounds} rounds; fastest s (median s)\n")
    print("| variant | apply | apply / floor, median of rounds | no-op migrate | status --json |")
    print("|---|---|---|---|---|")
    for name in variants:
        cells = [
            f"{min(times[name, k]):.3f} ({statistics.median(times[name, k]):.3f})" for k in kinds
        ]
        ratio = f"{statistics.median(ratios[name]):.2f}×"
        print(f"| {name} | {cells[0]} | {ratio} | {cells[1]} | {cells[2]} |")
    print(
        f"| floor (psql, one session) | {min(floors):.3f} ({statistics.median(floors):.3f}) "
        "| 1.00× | | |"
    )
    if counted:
        print("\n| variant | " + " | ".join(f"{k} (M instructions)" for k in kinds) + " |")
        print("|---|" + "---|" * len(kinds))
        for name in variants:
            print(
                f"| {name} | "
                + " | ".join(f"{counted.get((name, k), 0) / 1e6:,.0f}" for k in kinds)
                + " |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
