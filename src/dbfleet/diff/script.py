"""A diff as people and machines read it: an SQL script, JSON, or a Markdown review summary."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from dbfleet.diff.change import Change, Diff

_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def describe(change: Change) -> str:
    return f"{change.action} {change.kind} {change.name}"


def summary_line(d: Diff) -> str:
    if not d:
        return "no differences"
    counts = Counter(h.code for _, h in d.hazards())
    hazards = ", ".join(f"{code} ({n})" for code, n in sorted(counts.items()))
    return f"{len(d.changes)} change(s)" + (f"; hazards: {hazards}" if hazards else "")


def render_sql(d: Diff, title: str = "") -> str:
    """The script: a header, then each change with a comment and a hazard line per risky step."""
    out = [f"-- {title}" if title else "-- dbfleet diff", f"-- {summary_line(d)}"]
    if d.prologue:
        out += ["", *d.prologue]
    for change in d.changes:
        out.append("")
        out.append(f"-- {describe(change)}" + (f" ({change.reason})" if change.reason else ""))
        for hazard in change.hazards:
            out.append(f"-- hazard {hazard.code}: {hazard.message}")
        for step in change.steps:
            for hazard in step.hazards:
                out.append(f"-- hazard {hazard.code}: {hazard.message}")
            if not step.transactional:
                out.append("-- runs outside a transaction")
            out += [f"-- dbfleet:ignore {why}" for why in step.lint_ignore]
            out.append(step.sql)
    return "\n".join(out) + "\n"


def to_data(d: Diff) -> dict[str, Any]:
    # An object before and after a change reads as in the model's JSON (same keys, defaults
    # left out, attrs as an object), so one schema describes both documents.
    from dbfleet.schema.serialize import object_data

    return {
        "engine": d.engine,
        "summary": summary_line(d),
        "prologue": list(d.prologue),
        "changes": [
            {
                "action": c.action,
                "kind": c.kind,
                "object": c.name,
                "reason": c.reason or None,
                "before": object_data(c.before),
                "after": object_data(c.after),
                "hazards": [
                    {"code": h.code, "severity": h.severity, "message": h.message}
                    for h in c.all_hazards()
                ],
                "statements": [s.sql for s in c.steps],
                "transactional": all(s.transactional for s in c.steps),
            }
            for c in d.changes
        ],
    }


def render_json(d: Diff) -> str:
    return json.dumps(to_data(d), indent=2, default=str) + "\n"


def render_markdown(d: Diff, title: str = "Schema changes") -> str:
    """A review summary for a pull request: counts by kind, hazards first, then the SQL."""
    out = [f"### {title}", ""]
    if not d:
        return "\n".join([*out, "No differences.", ""])
    kinds = Counter(f"{c.action} {c.kind}" for c in d.changes)
    out.append(", ".join(f"{n} × {k}" for k, n in sorted(kinds.items())))
    hazards = sorted(d.hazards(), key=lambda ch: (_SEVERITY_RANK[ch[1].severity], ch[1].code))
    if hazards:
        out += ["", "| Severity | Hazard | Object | What it means |", "|---|---|---|---|"]
        for change, hazard in hazards:
            out.append(
                f"| {hazard.severity} | `{hazard.code}` | `{change.name}` | "
                f"{hazard.message.replace('|', '/')} |"
            )
    out += ["", "<details><summary>SQL</summary>", "", "```sql", render_sql(d).rstrip(), "```"]
    out += ["", "</details>", ""]
    return "\n".join(out)
