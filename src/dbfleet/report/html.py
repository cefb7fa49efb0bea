"""A plan as one self-contained HTML page for a reviewer: inline CSS, no external assets."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbfleet.plan.plan import Plan

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; }
/* On a narrow screen the URL and hash wrap, and a table too wide scrolls in its own box:
   the page itself never scrolls sideways. */
.meta { color: #57606a; overflow-wrap: anywhere; } .scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d0d7de;
         vertical-align: top; }
th { background: #f6f8fa; }
.sev { font-weight: 600; border-radius: 1em; padding: 0 .6em; font-size: .85em; }
.high { background: #ffebe9; color: #cf222e; } .medium { background: #fff8c5; color: #9a6700; }
.low { background: #ddf4ff; color: #0969da; }
.ok { color: #1a7f37; font-weight: 600; } .warn { color: #cf222e; font-weight: 600; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; border-radius: 6px;
      font-size: 13px; line-height: 1.45; }
"""

_TABLE, _END_TABLE = '<div class="scroll"><table>', "</table></div>"


def _sql(text: str) -> str:
    """SQL with syntax highlighting as inline styles (Pygments comes with Rich)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import SqlLexer
    except ImportError:  # pragma: no cover - Rich depends on Pygments
        return f"<pre><code>{escape(text)}</code></pre>"
    return str(highlight(text, SqlLexer(), HtmlFormatter(noclasses=True, nowrap=False)))


def render_plan_html(plan: Plan) -> str:
    from dbfleet.diff.script import describe

    head = plan.fingerprint.head or "nothing applied"
    hazards = sorted(
        plan.changes.hazards(),
        key=lambda ch: ({"high": 0, "medium": 1, "low": 2}[ch[1].severity], ch[1].code),
    )
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # A second line of defence behind escaping: the page may run no script and fetch nothing.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>dbfleet plan {escape(plan.hash[:12])} for {escape(plan.environment)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Plan for <code>{escape(plan.environment)}</code></h1>",
        f'<p class="meta">{escape(plan.target)} · at version <code>{escape(head)}</code> · '
        f"plan <code>{escape(plan.hash)}</code></p>",
        "<p>"
        + (
            f"{len(plan.migrations)} migration(s) to run, "
            f"{len(plan.changes.changes)} schema change(s), {len(hazards)} hazard(s)."
            if plan.migrations
            else '<span class="ok">Nothing to do</span>: no migration is pending.'
        )
        + "</p>",
    ]
    if hazards:
        out += [
            "<h2>Hazards</h2>",
            _TABLE + "<tr><th>Severity</th><th>Hazard</th><th>Change</th><th>Why</th></tr>",
        ]
        for change, hazard in hazards:
            out.append(
                f'<tr><td><span class="sev {hazard.severity}">{hazard.severity}</span></td>'
                f"<td><code>{escape(hazard.code)}</code></td>"
                f"<td>{escape(describe(change))}</td><td>{escape(hazard.message)}</td></tr>"
            )
        out.append(_END_TABLE)
    if plan.lint:
        out += [
            "<h2>Lint</h2>",
            _TABLE + "<tr><th>Severity</th><th>Rule</th><th>Where</th><th>Finding</th></tr>",
        ]
        for f in plan.lint:
            severity = {"error": "high", "warning": "medium"}.get(str(f["severity"]), "low")
            out.append(
                f'<tr><td><span class="sev {severity}">{escape(str(f["severity"]))}</span></td>'
                f"<td><code>{escape(str(f['code']))}</code> {escape(str(f['name']))}</td>"
                f"<td><code>{escape(str(f['file']))}:{f['line']}</code></td>"
                f"<td>{escape(str(f['message']))}</td></tr>"
            )
        out.append(_END_TABLE)
    out.append("<h2>Drift</h2>")
    if plan.drift:
        out.append(
            f'<p class="warn">The target differs from its applied migrations in '
            f"{len(plan.drift)} place(s):</p>" + _TABLE + "<tr><th>Object</th><th>What</th></tr>"
        )
        for d in plan.drift:
            out.append(
                f"<tr><td>{escape(d['kind'])} <code>{escape(d['object'])}</code></td>"
                f"<td>{escape(d['what'])}</td></tr>"
            )
        out.append(_END_TABLE)
    else:
        out.append('<p class="ok">None: the target matches its applied migrations.</p>')
    if plan.migrations:
        out += ["<h2>Migrations</h2>", _TABLE + "<tr><th>Script</th><th>Checksum</th></tr>"]
        out += [
            f"<tr><td><code>{escape(s)}</code></td><td><code>{escape(c[:16])}</code></td></tr>"
            for s, c in plan.migrations
        ]
        out.append(_END_TABLE)
        if plan.changes:
            out += ["<h2>Schema change</h2>", _TABLE + "<tr><th>Change</th><th>Why</th></tr>"]
            out += [
                f"<tr><td>{escape(describe(c))}</td><td>{escape(c.reason)}</td></tr>"
                for c in plan.changes.changes
            ]
            out.append(_END_TABLE)
        out += ["<h2>What will run</h2>", _sql(plan.sql)]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
