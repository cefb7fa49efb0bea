"""Reports as one self-contained HTML page for a reviewer (plan, drift, diff): Jinja2 templates
in `report/templates/`, inline CSS, SQL highlighted with inline styles, no script, no external
asset. Everything inserted is escaped (autoescape); the page's Content-Security-Policy forbids
scripts and fetches as a second line of defence."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from dbfleet.diff import Diff
    from dbfleet.plan.drift import DriftReport
    from dbfleet.plan.plan import Plan

_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


@cache
def _environment() -> jinja2.Environment:
    import jinja2
    from markupsafe import Markup

    from dbfleet.diff.script import describe

    def sql(text: str) -> Markup:
        """SQL with syntax highlighting as inline styles (Pygments comes with Rich)."""
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import SqlLexer

        # Pygments escapes the code it formats.
        return Markup(highlight(text, SqlLexer(), HtmlFormatter(noclasses=True, nowrap=False)))

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dbfleet.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sql"] = sql
    env.filters["describe"] = describe
    return env


def _render(template: str, **context: Any) -> str:
    from dbfleet import __version__

    page = _environment().get_template(template).render(dbfleet_version=__version__, **context)
    return page.rstrip() + "\n"


def _by_severity(d: Diff) -> list[Any]:
    return sorted(d.hazards(), key=lambda ch: (_SEVERITY_RANK[ch[1].severity], ch[1].code))


def render_plan_html(plan: Plan) -> str:
    return _render("plan.html.j2", plan=plan, hazards=_by_severity(plan.changes))


def render_drift_html(report: DriftReport, environment: str, target: str) -> str:
    from dbfleet.diff.script import render_sql

    return _render(
        "drift.html.j2",
        environment=environment,
        target=target,
        version=report.version,
        differences=[d.to_data() for d in report.differences()],
        hazards=_by_severity(report.fix),
        fix_sql=render_sql(report.fix, f"dbfleet drift --fix-sql: back to {report.version}"),
    )


def render_diff_html(d: Diff, title: str) -> str:
    from dbfleet.diff.script import render_sql

    return _render("diff.html.j2", diff=d, title=title, hazards=_by_severity(d), sql=render_sql(d))
