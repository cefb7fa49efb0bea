"""The optional style layer: sqlfluff with the project's own .sqlfluff, as DF801 findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dbfleet.errors import ConfigError

# dbfleet engine -> sqlfluff dialect, used when the project's .sqlfluff names none.
DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mariadb"}


def style_problems(
    root: Path, engine: str, paths: Sequence[Path]
) -> list[tuple[Path, int, int, str]]:
    """(file, line, column, "CODE: description") for each sqlfluff rule violation.

    Parse failures are left out: the engine's own parser already reports them (DF001),
    more precisely than sqlfluff's grammar can.
    """
    try:
        from sqlfluff.core import FluffConfig, Linter, SQLLintError
    except ImportError:
        raise ConfigError(
            "[lint] sqlfluff = true, but sqlfluff is not installed",
            hint="pip install 'dbfleet[lint-style]', or set sqlfluff = false",
        ) from None
    if not paths:
        return []
    config = FluffConfig.from_path(str(root), require_dialect=False)
    if not config.get("dialect"):
        config = FluffConfig.from_path(str(root), overrides={"dialect": DIALECTS[engine]})
    result = Linter(config=config).lint_paths(tuple(str(p) for p in paths))
    problems = []
    for linted_path in result.paths:
        for linted in linted_path.files:
            for violation in linted.violations:
                if isinstance(violation, SQLLintError):
                    problems.append(
                        (
                            Path(linted.path).resolve(),
                            int(violation.line_no),
                            int(violation.line_pos),
                            f"{violation.rule_code()}: {violation.desc()}",
                        )
                    )
    return problems
