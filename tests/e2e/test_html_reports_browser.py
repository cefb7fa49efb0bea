"""HTML reports opened in a real browser (headless Chromium driven by Playwright), as a reviewer
opens them: they load with no console error and no request for anything outside the page, show
the hazards, the drift and the highlighted SQL, and show SQL from a migration as text, never run it.

`dbfleet plan -f html` is the only HTML report (diff and drift write SQL, JSON or Markdown).
Chromium is Debian's (`apt-get install chromium`), not one downloaded by `playwright install`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ON_CI
from tests.support import cli, cli_process, query, scratch_setting, write_project

CHROMIUM = Path(os.environ.get("DBFLEET_TEST_CHROMIUM", "/usr/bin/chromium"))

XSS_COMMENT = "<script>alert(1)</script>"
XSS_LITERAL = "<script>alert(2)</script>"

MIGRATIONS = {
    "V1__customers.sql": (
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100), notes TEXT);\n"
    ),
    "V2__drop_notes.sql": (
        f"-- {XSS_COMMENT} is shown, not run\n"
        "ALTER TABLE customers DROP COLUMN notes;\n"
        f"INSERT INTO customers (id, name) VALUES (1, '{XSS_LITERAL}'), (2, 'Zoë Ågren');\n"
    ),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole module; skipped where there is none, except on CI."""
    reason = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright package is not installed (pip install -e '.[test]')"
    if not reason and not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if reason:
        if ON_CI:
            pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Opened:
    """A report open in a browser tab, and everything that went wrong while it loaded."""

    page: Any
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def open_report(browser: Any) -> Iterator[Any]:
    """open_report(path, width=...) -> Opened: the file in a fresh tab that may fetch nothing."""
    contexts: list[Any] = []

    def open_(path: Path, width: int = 1280) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        url = path.resolve().as_uri()

        def only_the_report(route: Any) -> None:
            if route.request.url == url:
                route.continue_()
            else:
                opened.problems.append(f"request for {route.request.url}")
                route.abort()

        page.route("**/*", only_the_report)
        page.on(
            "console",
            lambda m: (
                opened.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda exc: opened.problems.append(f"page error: {exc}"))
        page.on(
            "requestfailed",
            lambda r: opened.problems.append(f"request failed: {r.url} ({r.failure})"),
        )

        def on_dialog(dialog: Any) -> None:
            opened.problems.append(f"a script ran and opened a dialog: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        response = page.goto(url, wait_until="load")
        assert response is not None and response.ok
        return opened

    yield open_
    for context in contexts:
        context.close()


def plan_html(tmp_path: Path, url: str, *, applied: str, drift_sql: str = "") -> Path:
    """A project on `url` with migrations applied up to `applied`, an optional change made by
    hand, and `dbfleet plan -f html > plan.html` run as a user would; the page's path."""
    project = write_project(tmp_path / "project", url, MIGRATIONS, extra=scratch_setting(url))
    migrated = cli(project, "migrate", "--target", applied)
    assert migrated.exit_code == 0, migrated.output
    if drift_sql:
        query(url, drift_sql)
    made = cli_process(project, "plan", "-f", "html")
    assert made.exit_code == 0, made.output
    page = tmp_path / "plan.html"
    page.write_text(made.stdout, encoding="utf-8")
    return page


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_plan_report_shows_hazards_drift_and_sql_in_a_browser(
    tmp_path, new_database, open_report, engine
):
    url = new_database(engine)
    report = plan_html(tmp_path, url, applied="1", drift_sql="CREATE TABLE hotfix (id INTEGER)")
    opened = open_report(report)
    page = opened.page
    assert opened.problems == []
    assert page.title().startswith("dbfleet plan ") and page.title().endswith(" for dev")

    assert page.get_by_role("heading", name="Hazards").is_visible()
    data_loss = page.get_by_role("row").filter(has_text="data_loss")
    assert data_loss.count() == 1 and data_loss.is_visible()
    assert "high" in data_loss.inner_text() and "notes" in data_loss.inner_text()

    assert page.get_by_role("heading", name="Drift").is_visible()
    assert page.get_by_text("differs from its applied migrations").is_visible()
    drifted = page.get_by_role("row").filter(has_text="hotfix")
    assert drifted.is_visible() and "added outside the migrations" in drifted.inner_text()

    assert page.get_by_role("cell", name="V2__drop_notes.sql", exact=True).is_visible()
    sql = page.locator("pre")
    assert sql.count() == 1 and sql.is_visible()
    shown = sql.inner_text()
    assert "ALTER TABLE customers DROP COLUMN notes;" in shown
    assert "Zoë Ågren" in shown  # UTF-8 read as UTF-8

    # Highlighted: keywords are spans in a colour of their own, not the text colour of the block.
    keyword = sql.locator("span", has_text=re.compile(r"^ALTER$")).first
    assert keyword.is_visible()
    colour = "e => getComputedStyle(e).color"
    assert keyword.evaluate(colour) != sql.evaluate(colour)
    assert sql.locator("span").count() > 20

    # What the pending migration's statements risk, from lint.
    assert page.get_by_role("heading", name="Lint").is_visible()
    assert page.get_by_role("row").filter(has_text="DF102").is_visible()

    # A screenshot, as a reviewer sees the page: a real PNG with more than a blank page in it.
    shot = page.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
    (tmp_path / "plan.png").write_bytes(shot)


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_markup_in_migrations_and_object_names_is_shown_as_text_never_run(
    tmp_path, new_database, open_report, engine
):
    sneaky_table = "<img src=x onerror=alert(3)>"  # an object name is the target's, not ours
    report = plan_html(
        tmp_path,
        new_database(engine),
        applied="1",
        drift_sql=f'CREATE TABLE "{sneaky_table}" (id INTEGER)',
    )
    opened = open_report(report)
    page = opened.page
    assert opened.problems == []  # no dialog opened: nothing from the migration ran
    assert page.locator("script, img").count() == 0
    assert page.get_by_text(XSS_COMMENT).is_visible()
    assert page.get_by_text(f"'{XSS_LITERAL}'").is_visible()
    assert page.get_by_role("row").filter(has_text=sneaky_table).is_visible()


def test_plan_with_nothing_to_do_renders_cleanly(tmp_path, new_database, open_report):
    report = plan_html(tmp_path, new_database("sqlite"), applied="2")
    opened = open_report(report)
    page = opened.page
    assert opened.problems == []
    assert page.get_by_text("Nothing to do").is_visible()
    assert page.get_by_text("None: the target matches its applied migrations.").is_visible()
    for absent in ("Hazards", "Migrations", "What will run"):
        assert page.get_by_role("heading", name=absent).count() == 0
    assert page.locator("pre").count() == 0


def test_plan_report_fits_a_narrow_window(tmp_path, open_report):
    """Long URLs, hashes, names and SQL lines wrap or scroll inside their box; the page never
    scrolls sideways (a phone, a split screen, a CI artifact viewer's side panel)."""
    long_path = tmp_path / "databases_of_the_billing_team" / f"{'tenant_' * 8}staging.db"
    long_path.parent.mkdir()
    long_name = "hotfix_added_by_hand_during_the_incident_on_the_night_before"
    report = plan_html(
        tmp_path,
        f"sqlite:///{long_path}",
        applied="1",
        drift_sql=f"CREATE TABLE {long_name} (id INTEGER)",
    )
    for width in (1280, 400):
        opened = open_report(report, width=width)
        assert opened.problems == []
        assert opened.page.get_by_text(long_name).is_visible()
        page_width = opened.page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert page_width[0] <= page_width[1], f"at {width}px the page is {page_width[0]}px wide"


def test_drift_and_diff_reports_in_a_browser(tmp_path, new_database, open_report):
    """`drift -f html` and `diff -f html` share the plan page's look and rules: the differences,
    the hazards of the way back, and the SQL, with nothing run or fetched."""
    url = new_database("sqlite")
    project = write_project(tmp_path / "project", url, MIGRATIONS)
    assert cli(project, "migrate").exit_code == 0
    query(url, "ALTER TABLE customers ADD COLUMN hotfix INTEGER")
    query(url, f'CREATE TABLE "{XSS_COMMENT}" (id INTEGER)')

    drift = cli(project, "drift", "-f", "html")
    assert drift.exit_code == 2, drift.output
    (tmp_path / "drift.html").write_text(drift.stdout, encoding="utf-8")
    opened = open_report(tmp_path / "drift.html", width=400)
    page = opened.page
    assert opened.problems == [] and page.locator("script").count() == 0
    assert page.title() == "dbfleet drift of dev"
    assert page.get_by_role("row").filter(has_text="column hotfix added").is_visible()
    assert page.get_by_role("row").filter(has_text=XSS_COMMENT).first.is_visible()
    assert page.get_by_role("row").filter(has_text="data_loss").first.is_visible()
    assert "DROP TABLE" in page.locator("pre").inner_text()
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1]

    diff = cli(project, "diff", "env:dev", "migrations", "-f", "html")
    assert diff.exit_code == 0, diff.output
    (tmp_path / "diff.html").write_text(diff.stdout, encoding="utf-8")
    opened = open_report(tmp_path / "diff.html")
    page = opened.page
    assert opened.problems == []
    assert page.get_by_role("heading", name="Hazards").is_visible()
    assert page.get_by_role("heading", name="Changes").is_visible()
    assert "hotfix" in page.locator("pre").inner_text()
    assert len(page.screenshot(full_page=True)) > 20_000

    same = cli(project, "diff", "migrations", "migrations", "-f", "html")
    (tmp_path / "same.html").write_text(same.stdout, encoding="utf-8")
    opened = open_report(tmp_path / "same.html")
    assert opened.problems == [] and opened.page.get_by_text("No differences.").is_visible()
