"""Benchmark: `dbfleet lint` on N generated migrations (no database), and squawk on the same files.

    .venv/bin/python benchmarks/lint_bench.py                 # 500 migrations, 5 repeats
    .venv/bin/python benchmarks/lint_bench.py --count 2000 --repeat 3

Uses the migration generator of migrate_bench.py (same seed -> same files). squawk is looked up
next to this interpreter (pip install squawk-cli), then on the PATH; without it only dbfleet is
measured. Prints a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from migrate_bench import generate, write_project


def wall(cmd: list[str], cwd: Path, repeat: int) -> tuple[float, int, str]:
    """Median wall time of `repeat` runs, the exit code and the last stdout line."""
    times = []
    proc = None
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
    assert proc is not None
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    return statistics.median(times), proc.returncode, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    dbfleet = (
        [str(bin_dir / "dbfleet")]
        if (bin_dir / "dbfleet").exists()
        else [sys.executable, "-m", "dbfleet"]
    )
    squawk = str(bin_dir / "squawk") if (bin_dir / "squawk").exists() else shutil.which("squawk")
    with tempfile.TemporaryDirectory(prefix="dbfleet-lint-bench-") as tmp:
        project = Path(tmp) / "project"
        migrations = generate(args.count, args.seed)
        write_project(project, migrations)
        toml = project / "dbfleet.toml"
        toml.write_text(
            toml.read_text().replace('name = "bench"', 'name = "bench"\nengine = "postgresql"')
        )
        files = sorted(str(p) for p in (project / "migrations").glob("*.sql"))
        size = sum(os.path.getsize(f) for f in files)
        print(
            f"{args.count} migrations, {size / 1024:.0f} kB, median of {args.repeat} runs "
            f"on {os.cpu_count()} CPUs\n",
            file=sys.stderr,
        )
        rows = []
        seconds, code, last = wall([*dbfleet, "--version"], project, args.repeat)
        rows.append(("`dbfleet --version` (start-up floor)", seconds, code, last))
        seconds, code, last = wall([*dbfleet, "lint"], project, args.repeat)
        rows.append((f"**`dbfleet lint`** ({args.count} files)", seconds, code, last))
        lint_seconds = seconds
        seconds, code, last = wall(
            [*dbfleet, "lint", "--format", "sarif", "-o", "x.sarif"], project, args.repeat
        )
        rows.append(("`dbfleet lint --format sarif`", seconds, code, "SARIF file"))
        if squawk:
            seconds, code, last = wall([squawk, *files], project, args.repeat)
            rows.append((f"`squawk` ({args.count} files)", seconds, code, last[:60]))
            ratio = lint_seconds / seconds if seconds else float("nan")
        print("| run | wall time | exit | last line of output |")
        print("|---|---:|---:|---|")
        for name, secs, code, last in rows:
            print(f"| {name} | {secs:.2f} s | {code} | {last.replace('|', '/')} |")
        if squawk:
            print(f"\nratio dbfleet lint / squawk: {ratio:.1f}x")


if __name__ == "__main__":
    main()
