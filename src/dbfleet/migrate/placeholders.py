"""${name} placeholders in migration scripts, filled from config, the CLI and built-ins."""

from __future__ import annotations

import re
from collections.abc import Mapping

from dbfleet.errors import MigrationFileError

PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_.:\-]*)\}")


def fill(text: str, values: Mapping[str, str], script: str) -> str:
    """Replace every ${name}; an undefined one is an error naming the file and line."""

    def substitute(match: re.Match[str]) -> str:
        name = match["name"]
        if name in values:
            return values[name]
        line = text.count("\n", 0, match.start()) + 1
        if name.startswith("dbfleet:"):
            builtins = sorted("${" + k + "}" for k in values if k.startswith("dbfleet:"))
            hint = "the built-in placeholders are " + ", ".join(builtins)
        else:
            hint = (
                f"define it under [placeholders] in dbfleet.toml or pass --placeholder {name}=VALUE"
            )
        raise MigrationFileError(f"{script}:{line}: unknown placeholder ${{{name}}}", hint=hint)

    return PLACEHOLDER.sub(substitute, text)
