"""`dbfleet plan` / `dbfleet apply --plan`: the same plan for the same target, exactly that
applied, and a stale or edited plan refused — on every engine."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import cli, history, query, scratch_setting, tables, write_project

MIGRATIONS = {
    "V1__customers.sql": "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100));\n",
    "V2__orders.sql": "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);\n",
    "V3__order_index.sql": "CREATE INDEX orders_customer ON orders (customer_id);\n",
}


def project_for(tmp_path: Path, url: str) -> Path:
    return write_project(tmp_path / "p", url, MIGRATIONS, extra=scratch_setting(url))


def test_plan_then_apply_runs_exactly_the_plan(tmp_path, db_url):
    project = project_for(tmp_path, db_url)
    assert cli(project, "migrate", "--target", "1").exit_code == 0
    first = cli(project, "plan", "-o", str(tmp_path / "plan.json"), "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "V2__orders.sql" in first.stdout and "V3__order_index.sql" in first.stdout
    assert "schema change:" in first.stdout and "orders" in first.stdout
    again = json.loads(cli(project, "plan", "-f", "json").stdout)
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert again["hash"] == saved["hash"]  # an unchanged target plans the same
    assert [v for v, _, _ in history(db_url)] == ["1"]  # planning never touches the target
    assert "orders" not in {t.lower() for t in tables(db_url)}

    # A migration added after the plan is not run by it.
    (project / "migrations" / "V4__late.sql").write_text("CREATE TABLE late (id INTEGER);\n")
    stale = cli(project, "apply", "--plan", str(tmp_path / "plan.json"))
    assert stale.exit_code == 1 and "files changed since plan" in stale.stderr
    (project / "migrations" / "V4__late.sql").unlink()

    applied = cli(project, "apply", "--plan", str(tmp_path / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert [v for v, _, ok in history(db_url) if ok] == ["1", "2", "3"]
    runs = cli(project, "history")
    assert "apply" in runs.stdout and "ok" in runs.stdout

    twice = cli(project, "apply", "--plan", str(tmp_path / "plan.json"))
    assert twice.exit_code == 1 and "history moved from 1 to 3" in twice.stderr
    done = cli(project, "plan", "--detailed-exitcode", "--no-drift")
    assert done.exit_code == 0 and "nothing to do" in done.stdout


def test_a_target_changed_by_hand_or_an_edited_plan_is_refused(tmp_path, sqlite_url):
    project = project_for(tmp_path, sqlite_url)
    assert cli(project, "migrate", "--target", "2").exit_code == 0
    plan_file = tmp_path / "plan.json"
    assert cli(project, "plan", "-o", str(plan_file)).exit_code == 0

    edited = json.loads(plan_file.read_text())
    edited["statements"] = ["DROP TABLE customers"]
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    forged = cli(project, "apply", "--plan", str(tmp_path / "edited.json"))
    assert forged.exit_code == 1 and "changed after it was made" in forged.stderr

    query(sqlite_url, "CREATE TABLE hotfix (id INTEGER)")
    changed = cli(project, "apply", "--plan", str(plan_file))
    assert changed.exit_code == 1 and "its schema changed" in changed.stderr
    assert [v for v, _, _ in history(sqlite_url)] == ["1", "2"]  # nothing ran

    other = write_project(tmp_path / "other", sqlite_url, MIGRATIONS)
    foreign = cli(other, "apply", "--plan", str(plan_file))
    assert foreign.exit_code == 1 and "is a plan of project 'test'" not in foreign.stdout
    (other / "dbfleet.toml").write_text(
        (other / "dbfleet.toml").read_text().replace('name = "test"', 'name = "billing"')
    )
    foreign = cli(other, "apply", "--plan", str(plan_file))
    assert foreign.exit_code == 1
    assert "is a plan of project 'test', not of 'billing'" in foreign.stderr

    (tmp_path / "junk.json").write_text("not json")
    junk = cli(project, "apply", "--plan", str(tmp_path / "junk.json"))
    assert junk.exit_code == 1 and "is not a plan file" in junk.stderr


def test_plan_markdown_is_a_pull_request_comment(tmp_path, sqlite_url):
    project = project_for(tmp_path, sqlite_url)
    md = cli(project, "plan", "-f", "md")
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("## dbfleet plan for `dev`")
    assert "`V1__customers.sql`" in md.stdout and "```sql" in md.stdout


def test_migrate_and_undo_runs_are_recorded_no_ops_are_not(tmp_path, sqlite_url):
    project = project_for(tmp_path, sqlite_url)
    (project / "migrations" / "U3__order_index.sql").write_text("DROP INDEX orders_customer;\n")
    assert cli(project, "migrate").exit_code == 0
    assert cli(project, "migrate").exit_code == 0  # nothing to do: not a run worth recording
    assert cli(project, "undo").exit_code == 0
    (project / "migrations" / "V4__broken.sql").write_text("CREATE TABLE broken (;\n")
    assert cli(project, "migrate").exit_code == 1
    runs = json.loads(cli(project, "history", "--json").stdout)["runs"]
    assert [(r["command"], r["result"]) for r in runs] == [
        ("migrate", "failed"),
        ("undo", "ok"),
        ("migrate", "ok"),
    ]
    assert "V4__broken.sql" in runs[0]["error"]


def test_plan_html_is_one_self_contained_page(tmp_path, sqlite_url):
    from html.parser import HTMLParser

    project = project_for(tmp_path, sqlite_url)
    assert cli(project, "migrate", "--target", "1").exit_code == 0
    query(sqlite_url, "CREATE TABLE hotfix (id INTEGER)")  # drift shows up in the report
    page = cli(project, "plan", "-f", "html")
    assert page.exit_code == 0, page.output
    html = page.stdout

    external: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            external.extend(v for k, v in attrs if k in ("src", "href") and v)

    Links().feed(html)
    assert external == []  # no scripts, stylesheets or images from elsewhere
    assert html.startswith("<!doctype html>") and "<style>" in html
    assert "V2__orders.sql" in html and "Hazards" in html and "hotfix" in html
    assert 'style="color' in html  # the SQL is highlighted with inline styles


def test_plan_lints_the_pending_migrations_and_keeps_what_they_do(tmp_path, db_url):
    project = project_for(tmp_path, db_url)
    assert cli(project, "migrate").exit_code == 0
    (project / "migrations" / "V4__drop_name.sql").write_text(
        "ALTER TABLE customers DROP COLUMN name;\nUPDATE orders SET customer_id = 1;\n"
    )
    made = json.loads(cli(project, "plan", "-f", "json").stdout)
    lint = {(f["code"], f["file"], f["line"]) for f in made["lint"]}
    assert ("DF102", "migrations/V4__drop_name.sql", 1) in lint  # drop-column
    assert ("DF108", "migrations/V4__drop_name.sql", 2) in lint  # update-without-where
    assert all(f["file"].endswith("V4__drop_name.sql") for f in made["lint"])  # pending only
    codes = {h["code"] for c in made["changes"]["changes"] for h in c["hazards"]}
    assert "data_loss" in codes
    # How the diff engine would rebuild the table (SQLite) is not what the migration runs.
    assert not codes & {"table_rewrite", "rebuild", "access_exclusive_lock"}
    text = cli(project, "plan").stdout
    assert "lint: " in text and "DF102" in text
    md = cli(project, "plan", "-f", "md").stdout
    assert "| error | `DF102` drop-column |" in md
    quiet = json.loads(cli(project, "plan", "-f", "json", "--no-lint").stdout)
    assert quiet["lint"] == [] and quiet["hash"] == made["hash"]
