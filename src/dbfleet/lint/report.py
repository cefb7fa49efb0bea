"""Lint findings as text for people, JSON for machines, GitHub annotations, JUnit and SARIF."""

from __future__ import annotations

import json
from collections.abc import Callable

from dbfleet.lint.findings import Finding, LintResult, Severity
from dbfleet.lint.rules import BY_CODE, RULES


def _counts(result: LintResult) -> str:
    active = result.active
    errors = sum(f.severity is Severity.ERROR for f in active)
    warnings = sum(f.severity is Severity.WARNING for f in active)
    infos = len(active) - errors - warnings
    suppressed = len(result.findings) - len(active)
    parts = [
        f"{len(result.files)} file{'s' if len(result.files) != 1 else ''}",
        f"{errors} error{'s' if errors != 1 else ''}",
        f"{warnings} warning{'s' if warnings != 1 else ''}",
    ]
    if infos:
        parts.append(f"{infos} info")
    if suppressed:
        parts.append(f"{suppressed} suppressed")
    return ", ".join(parts)


def render_text(result: LintResult, color: bool = False) -> str:
    """file:line:col: severity[CODE name] message, the line, a caret, and what to do instead."""
    styles = {"error": "1;31", "warning": "1;33", "info": "1;36"}

    def paint(text: str, style: str) -> str:
        return f"\033[{style}m{text}\033[0m" if color else text

    out = []
    for f in result.active:
        head = paint(f"{f.severity.value}[{f.code} {f.name}]", styles[f.severity.value])
        out.append(f"{paint(f.where, '1')}: {head} {f.message}")
        if f.source_line:
            gutter = str(f.line)
            out.append(f"  {gutter} | {f.source_line}")
            caret_at = min(f.column - 1, len(f.source_line))
            prefix = "".join(c if c == "\t" else " " for c in f.source_line[:caret_at])
            out.append(f"  {' ' * len(gutter)} | {prefix}{paint('^', styles[f.severity.value])}")
        if f.help:
            out.append(f"  help: {f.help}")
        out.append("")
    out.append(("lint failed: " if result.failed else "lint passed: ") + _counts(result))
    return "\n".join(out) + "\n"


def _finding_json(f: Finding) -> dict[str, object]:
    return {
        "code": f.code,
        "rule": f.name,
        "severity": f.severity.value,
        "message": f.message,
        "file": f.path,
        "line": f.line,
        "column": f.column,
        "source": f.source_line,
        "help": f.help,
        "suppressed": f.suppressed_by is not None,
        "suppression_reason": f.suppressed_by,
    }


def render_json(result: LintResult) -> str:
    return (
        json.dumps(
            {
                "files": list(result.files),
                "passed": not result.failed,
                "summary": _counts(result),
                "table_sizes_from": result.sizes_from,
                "findings": [_finding_json(f) for f in result.findings],
            },
            indent=2,
        )
        + "\n"
    )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: LintResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding on the pull request diff."""
    command = {"error": "error", "warning": "warning", "info": "notice"}
    out = []
    for f in result.active:
        props = ",".join(
            [
                f"file={_escape_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"title={_escape_property(f'{f.code} {f.name}')}",
            ]
        )
        text = f.message + (f". {f.help}" if f.help else "")
        out.append(f"::{command[f.severity.value]} {props}::{_escape_data(text)}")
    out.append(("lint failed: " if result.failed else "lint passed: ") + _counts(result))
    return "\n".join(out) + "\n"


def render_junit_report(result: LintResult) -> str:
    """One test suite per file, one failing case per finding (a clean file is one passing case)."""
    from dbfleet.report.junit import Case, Suite, render_junit

    suites = []
    for path in result.files:
        mine = [f for f in result.active if f.path == path]
        cases = [
            Case(
                name=f"{f.code} {f.name} at line {f.line}",
                classname=f"lint.{path}",
                failure=f.message if f.severity is not Severity.INFO else None,
                skipped=f.message if f.severity is Severity.INFO else None,
                details=f"{f.where}: {f.severity.value}: {f.message}\n{f.source_line}\n{f.help}",
                file=f.path,
                line=f.line,
            )
            for f in mine
        ] or [Case(name="lint", classname=f"lint.{path}", file=path)]
        suites.append(Suite(f"dbfleet lint {path}", cases))
    return render_junit(suites)


def render_sarif_report(result: LintResult) -> str:
    from dbfleet.report.sarif import render_sarif

    return render_sarif(result, RULES)


RENDERERS: dict[str, Callable[[LintResult], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "junit": render_junit_report,
    "sarif": render_sarif_report,
}


def explain(code: str) -> str | None:
    from dbfleet.lint.rules import find_rule

    rule = find_rule(code)
    if rule is None:
        return None
    aliases = f"\nAlso known as: {', '.join(rule.aliases)}" if rule.aliases else ""
    state = "" if rule.enabled else " (off unless enabled in [lint])"
    return (
        f"{rule.code} {rule.name} — {rule.family}, {rule.severity.value}{state}\n\n"
        f"{rule.explanation}\n\nInstead: {rule.alternative}{aliases}\n"
    )


def list_rules() -> str:
    lines = []
    for rule in RULES:
        state = "" if rule.enabled else "  (off by default)"
        lines.append(f"{rule.code}  {rule.severity.value:<7}  {rule.family:<24} {rule.name}{state}")
    return "\n".join(lines) + "\n"


__all__ = ["BY_CODE", "RENDERERS", "explain", "list_rules"]
