"""The [lint] section of dbfleet.toml: which rules run, at which severity, where."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dbfleet.errors import ConfigError
from dbfleet.lint.findings import Severity
from dbfleet.lint.rules import RULES, find_rule

_NAMING_KINDS = ("table", "index", "constraint")


@dataclass(frozen=True)
class RuleChoices:
    enable: frozenset[str] = frozenset()
    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)


@dataclass(frozen=True)
class Override:
    paths: tuple[str, ...]
    choices: RuleChoices

    def matches(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p + "/*") for p in self.paths)


@dataclass(frozen=True)
class LintSettings:
    choices: RuleChoices = RuleChoices()
    overrides: tuple[Override, ...] = ()
    naming: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    sqlfluff: bool = False

    def rule(self, code: str, path: str) -> tuple[bool, Severity]:
        """Whether rule `code` runs on `path` (project-relative, "/"), and at which severity."""
        rule = find_rule(code)
        assert rule is not None
        enabled, severity = rule.enabled, rule.severity
        for choices in (self.choices, *(o.choices for o in self.overrides if o.matches(path))):
            if code in choices.enable:
                enabled = True
            if code in choices.disable:
                enabled = False
            severity = choices.severity.get(code, severity)
        return enabled, severity


def _codes(value: Any, where: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError(f'{where} must be a list of rule codes, e.g. ["DF601"]')
    if any(v.strip().lower() == "all" for v in items):
        return frozenset(r.code for r in RULES)
    return frozenset(_code(v, where) for v in items)


def _code(value: str, where: str) -> str:
    rule = find_rule(value)
    if rule is None:
        raise ConfigError(
            f"{where}: '{value}' is not a lint rule", hint="`dbfleet lint --list-rules` lists them"
        )
    return rule.code


def _choices(table: Mapping[str, Any], where: str) -> RuleChoices:
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f'{where}.severity must be a table like {{ DF601 = "error" }}')
    levels = {}
    for key, level in severity.items():
        try:
            levels[_code(key, f"{where}.severity")] = Severity(str(level).lower())
        except ValueError:
            raise ConfigError(
                f"{where}.severity.{key}: '{level}' is not a severity",
                hint="use error, warning or info",
            ) from None
    return RuleChoices(
        _codes(table.get("enable", []), f"{where}.enable"),
        _codes(table.get("disable", []), f"{where}.disable"),
        levels,
    )


def settings_from(raw: Mapping[str, Any], source: str) -> LintSettings:
    where = f"{source}: lint"
    naming = raw.get("naming", {})
    if not isinstance(naming, dict):
        raise ConfigError(f'{where}.naming must be a table like {{ table = "^[a-z_]+$" }}')
    patterns = {}
    for kind, pattern in naming.items():
        if kind not in _NAMING_KINDS:
            raise ConfigError(
                f"{where}.naming.{kind}: unknown object kind", hint="use table, index, constraint"
            )
        try:
            patterns[kind] = re.compile(str(pattern))
        except re.error as exc:
            raise ConfigError(f"{where}.naming.{kind}: invalid pattern: {exc}") from None
    overrides = raw.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, dict) for o in overrides):
        raise ConfigError(f"{where}.overrides must be [[lint.overrides]] tables")
    parsed = []
    for n, table in enumerate(overrides):
        paths = table.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not paths or not all(isinstance(p, str) for p in paths):
            raise ConfigError(
                f'{where}.overrides[{n}].paths must list glob patterns, e.g. ["migrations/old/*"]'
            )
        unknown = set(table) - {"paths", "enable", "disable", "severity"}
        if unknown:
            raise ConfigError(
                f"{where}.overrides[{n}]: unknown key '{sorted(unknown)[0]}'",
                hint="allowed: paths, enable, disable, severity",
            )
        parsed.append(Override(tuple(paths), _choices(table, f"{where}.overrides[{n}]")))
    return LintSettings(
        choices=_choices(raw, where),
        overrides=tuple(parsed),
        naming=patterns,
        sqlfluff=bool(raw.get("sqlfluff", False)),
    )
