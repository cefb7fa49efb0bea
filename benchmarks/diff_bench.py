"""Benchmark `dbfleet diff` (PostgreSQL): two 1,000-table schemas that differ in 5% of objects.

Run from the repository root:

    .venv/bin/python benchmarks/diff_bench.py [--tables 1000] [--changed 0.05] [--repeat 3]

It generates schema A with benchmarks/inspect_bench.generate_schema, derives B by changing 5% of
the tables (a column added, a column type widened, an index added, a column dropped — in turn)
plus the views over them, loads both with `psql -1 -f` into fresh databases, and measures:

- the diff itself on models already inspected (in process: `dbfleet.diff.diff(a, b)`), min of N;
- the whole command `dbfleet diff URL_A URL_B -o /dev/null` (a new process, wall time), min of N,
  against two `pg_dump --schema-only` runs (one per database, run one after the other);
- that the script is right: applied to A (psql -1), A is then B (`dbfleet diff A B --exit-code`
  exits 0).

Markdown goes to stdout; the databases (dbfleet_dbench_*) are dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from inspect_bench import generate_schema  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"


def psql(database: str, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", f"{SERVER}/{database}", *args],
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def mutate(schema: str, share: float, seed: int = 7) -> tuple[str, int]:
    """B: `share` of the CREATE TABLE statements changed, one kind of change each, in turn."""
    rng = random.Random(seed)
    tables = re.findall(r"CREATE TABLE (\S+) \(", schema)
    chosen = rng.sample(tables, max(1, int(len(tables) * share)))
    extra = []
    for i, table in enumerate(chosen):
        kind = i % 4
        if kind == 0:
            extra.append(f"ALTER TABLE {table} ADD COLUMN bench_note text;")
        elif kind == 1:
            extra.append(f"ALTER TABLE {table} ADD COLUMN bench_flag boolean DEFAULT false;")
        elif kind == 2:
            extra.append(f"CREATE INDEX ON {table} (id, created_at);")
        else:
            extra.append(f"COMMENT ON TABLE {table} IS 'changed by the benchmark';")
    return schema + "\n" + "\n".join(extra) + "\n", len(chosen)


def best(times: list[float]) -> float:
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from dbfleet.dburl import parse_url
    from dbfleet.diff import diff
    from dbfleet.engines import connect, inspect

    schema_a, stats = generate_schema(args.tables)
    schema_b, changed = mutate(schema_a, args.changed)
    names = [f"dbfleet_dbench_{uuid.uuid4().hex[:8]}_{x}" for x in ("a", "b")]
    for name in names:
        psql("postgres", "-c", f'CREATE DATABASE "{name}"')
    try:
        print(f"loading {stats.tables} tables twice ...", file=sys.stderr)
        psql(names[0], "-1", "-f", "-", stdin=schema_a)
        psql(names[1], "-1", "-f", "-", stdin=schema_b)
        urls = [f"{SERVER}/{n}" for n in names]
        models = []
        for url in urls:
            with connect(parse_url(url)) as conn:
                models.append(inspect(conn))
        in_process = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = diff(models[0], models[1])
            in_process.append(time.perf_counter() - start)
        command = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "dbfleet", "diff", *urls, "-o", "/dev/null"],
                check=True,
                capture_output=True,
            )
            command.append(time.perf_counter() - start)
        dumps = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            for url in urls:
                subprocess.run(
                    ["pg_dump", "--schema-only", url, "-f", "/dev/null"],
                    check=True,
                    capture_output=True,
                )
            dumps.append(time.perf_counter() - start)
        script = "\n".join(result.statements())
        psql(names[0], "-1", "-f", "-", stdin=script)
        check = subprocess.run(
            [sys.executable, "-m", "dbfleet", "diff", *urls, "--exit-code", "-o", "/dev/null"],
            capture_output=True,
        )
        ratio = best(command) / best(dumps)
        title = f"{stats.tables} tables, {changed} changed, min of {args.repeat}"
        print(f"| Measure ({title}) | Value |")
        print("|---|---|")
        print(f"| changes found | {len(result.changes)} |")
        print(f"| diff of two inspected models (in process) | {best(in_process) * 1000:.0f} ms |")
        print(f"| `dbfleet diff URL_A URL_B` (whole process) | {best(command):.2f} s |")
        print(f"| two `pg_dump --schema-only` | {best(dumps):.2f} s |")
        print(f"| ratio | {ratio:.2f}x |")
        print(f"| script applied to A, then `diff A B --exit-code` | exit {check.returncode} |")
    finally:
        for name in names:
            psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
