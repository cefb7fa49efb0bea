"""Helpers for tests: write a project, run the CLI as a user would, look into a database."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbfleet.dburl import parse_url
from dbfleet.engines import connect


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def write_project(
    root: Path, url: str, migrations: dict[str, str] | None = None, extra: str = ""
) -> Path:
    """A project folder with dbfleet.toml (env `dev` at `url`) and the given migration files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbfleet.toml").write_text(
        f'[project]\nname = "test"\ndefault_environment = "dev"\n{extra}\n'
        f'[environments.dev]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    folder = root / "migrations"
    folder.mkdir(exist_ok=True)
    for name, text in (migrations or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return root


def scratch_setting(url: str) -> str:
    """The `scratch_url = ...` line for a project on `url`'s server (none needed for SQLite)."""
    parsed = parse_url(url)
    if parsed.engine == "sqlite":
        return ""
    server = parsed.with_database("postgres" if parsed.engine == "postgresql" else "mysql")
    return f'scratch_url = "{server.full}"\n'


def cli(project: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run `dbfleet -C project ARGS` in this process, capturing what a user would see."""
    from dbfleet.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    saved = dict(os.environ)
    cwd = os.getcwd()
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(["-C", str(project), *args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved)
    return Result(code, out.getvalue(), err.getvalue())


def cli_process(
    project: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> Result:
    """Run dbfleet as a separate process, exactly as a user's shell would (with `env` added)."""
    proc = subprocess.run(
        [sys.executable, "-m", "dbfleet", "-C", str(project), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=process_env(env),
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def process_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a dbfleet subprocess: ours without DBFLEET_* variables, plus `env`."""
    return (
        {k: v for k, v in os.environ.items() if not k.startswith("DBFLEET_")}
        | {"COLUMNS": "200"}
        | (env or {})
    )


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a SELECT/SHOW; other statements are just run."""
    with connect(parse_url(url)) as conn:
        if sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "SHOW", "WITH"):
            return conn.query(sql)
        conn.execute(sql)
        return []


def tables(url: str) -> set[str]:
    """Names of the user tables in the database at `url`."""
    engine = parse_url(url).engine
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        "mysql": "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
    }[engine]
    return {r[0] for r in query(url, sql)}


def history(url: str) -> list[tuple[Any, ...]]:
    """(version, type, success) of every history row, in rank order."""
    return [
        (r[0], r[1], bool(r[2]))
        for r in query(
            url,
            "SELECT version, type, success FROM dbfleet_schema_history ORDER BY installed_rank",
        )
    ]
