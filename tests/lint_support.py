"""Helpers for lint tests: a project of migration files, linted without a database."""

from __future__ import annotations

from pathlib import Path

from dbfleet.config import load_project
from dbfleet.lint.findings import Finding, LintResult
from dbfleet.lint.run import Options, lint

URLS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/postgres",
    "sqlite": "sqlite:///db.sqlite",
    "mysql": "mysql://root@127.0.0.1:3306/test",
}


def lint_project(
    root: Path,
    files: dict[str, str | bytes],
    engine: str = "postgresql",
    extra: str = "",
    **options: object,
) -> LintResult:
    """Write `files` into root/migrations (with a dbfleet.toml for `engine`) and lint them."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbfleet.toml").write_text(
        f'[project]\nname = "t"\ndefault_environment = "dev"\n\n[environments.dev]\n'
        f'url = "{URLS[engine]}"\n\n{extra}\n',
        encoding="utf-8",
    )
    folder = root / "migrations"
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return lint(load_project(root / "dbfleet.toml"), Options(**options))  # type: ignore[arg-type]


def codes(result: LintResult, file: str | None = None) -> list[str]:
    """Codes of the findings that remain (not suppressed), in file order."""
    return [f.code for f in result.active if file is None or f.path.endswith(file)]


def only(result: LintResult, code: str) -> Finding:
    found = [f for f in result.active if f.code == code]
    assert len(found) == 1, [f"{f.where} {f.code} {f.message}" for f in result.findings]
    return found[0]
