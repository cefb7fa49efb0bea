"""The keys of the [lint] section, for dbfleet.toml's loader (kept free of heavy imports: every
command loads the config, and only `dbfleet lint` needs the rule catalogue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dbfleet.errors import ConfigError


def _any(value: Any, where: str) -> Any:
    return value  # checked by dbfleet.lint.settings, where the rule catalogue is known


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


LINT_KEYS: dict[str, Callable[[Any, str], Any]] = {
    "enable": _any,
    "disable": _any,
    "severity": _any,
    "naming": _any,
    "overrides": _any,
    "sqlfluff": _bool,
}
