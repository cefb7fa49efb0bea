"""`dbfleet init`: scaffold a project (dbfleet.toml, migrations/, an example, .gitignore)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import info
from dbfleet.errors import ConfigError

_CONFIG = """\
# dbfleet project settings. Docs: dbfleet --help
[project]
name = "{name}"
default_environment = "dev"

[migrations]
locations = ["migrations"]
# history_table = "dbfleet_schema_history"
# out_of_order = false

[placeholders]
# app_role = "app"            # used in migrations as ${{app_role}}

[environments.dev]
url = "{url}"

# [environments.prod]
# url = "postgresql://deploy@db.example.com/app"
# url = "${{env:PROD_DATABASE_URL}}"   # references are resolved only when --env prod is used
"""

_EXAMPLE = """\
-- The first migration. Versions sort numerically: V1, V1.1, V2, V10.
CREATE TABLE example (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100) NOT NULL
);
"""

_EXAMPLE_UNDO = """\
-- Undo of V1: `dbfleet undo` runs it.
DROP TABLE example;
"""

_IGNORE = [".dbfleet/", "*.dbfleet-lock"]


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    url: Annotated[
        str, typer.Option(help="The dev environment's database URL.")
    ] = "sqlite:///.dbfleet/dev.db",
    name: Annotated[str | None, typer.Option(help="Project name (default: folder name).")] = None,
) -> None:
    """Create dbfleet.toml, migrations/ with an example migration, and .gitignore entries."""
    from dbfleet.dburl import parse_url

    globals_: Globals = ctx.obj
    root = (globals_.project_dir or Path.cwd()) / directory
    config = root / "dbfleet.toml"
    if config.exists():
        raise ConfigError(
            f"{config} already exists", hint="this folder is already a dbfleet project"
        )
    parse_url(url, where="--url")
    root.mkdir(parents=True, exist_ok=True)
    config.write_text(_CONFIG.format(name=name or root.resolve().name, url=url), encoding="utf-8")
    migrations = root / "migrations"
    migrations.mkdir(exist_ok=True)
    created = [config]
    if not any(migrations.glob("*.sql")):
        for file, text in (
            ("V1__create_example.sql", _EXAMPLE),
            ("U1__create_example.sql", _EXAMPLE_UNDO),
        ):
            (migrations / file).write_text(text, encoding="utf-8")
            created.append(migrations / file)
    ignore = root / ".gitignore"
    existing = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [line for line in _IGNORE if line not in existing]
    if missing:
        with ignore.open("a", encoding="utf-8") as handle:
            if existing and existing[-1].strip():
                handle.write("\n")
            handle.write("\n".join(missing) + "\n")
        created.append(ignore)
    for path in created:
        info(f"wrote {path}")
    info("next: dbfleet status, then dbfleet migrate")
