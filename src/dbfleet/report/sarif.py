"""SARIF 2.1.0, the static-analysis format GitHub code scanning and other CI systems read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dbfleet import __version__
from dbfleet.secrets import redact

if TYPE_CHECKING:
    from dbfleet.lint.findings import LintResult
    from dbfleet.lint.rules import Rule

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def render_sarif(result: LintResult, rules: Sequence[Rule]) -> str:
    """One run of the `dbfleet lint` tool: every rule it knows, every finding as a result.

    Suppressed findings stay in the log with an in-source suppression and its justification,
    as code scanning expects."""
    index = {rule.code: n for n, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for f in result.findings:
        item: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVEL[f.severity.value],
            "message": {"text": f.message + (f". {f.help}" if f.help else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            **({"snippet": {"text": f.source_line}} if f.source_line else {}),
                        },
                    }
                }
            ],
        }
        if f.suppressed_by is not None:
            item["suppressions"] = [{"kind": "inSource", "justification": f.suppressed_by}]
        results.append(item)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dbfleet lint",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.code,
                                "name": rule.name,
                                "shortDescription": {"text": rule.name.replace("-", " ")},
                                "fullDescription": {"text": rule.explanation},
                                "help": {"text": rule.alternative},
                                "defaultConfiguration": {
                                    "level": _LEVEL[rule.severity.value],
                                    "enabled": rule.enabled,
                                },
                                "properties": {"tags": [rule.family]},
                            }
                            for rule in rules
                        ],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "project root"}}},
                "results": results,
            }
        ],
    }
    return redact(json.dumps(log, indent=2)) + "\n"
