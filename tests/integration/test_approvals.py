"""Approvals bound to a plan's hash, and the release policy `apply` enforces: how many
approvals, never by an author, and only after the migrations reached `promote_from`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from tests.support import cli, history, scratch_setting, tables, write_project

MIGRATIONS = {
    "V1__customers.sql": "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100));\n",
    "V2__orders.sql": "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);\n",
}
POLICY = """
[environments.staging]
url = "sqlite:///staging.db"

[environments.prod]
url = "{prod}"
requires_approval = true
approvals = 2
approver_not_author = true
promote_from = "staging"
"""


def project_for(tmp_path: Path, prod_url: str, *, git: bool = True) -> Path:
    """A project whose prod runs approved plans only; its migrations committed to git by
    Carol (approver_not_author needs to know who wrote them)."""
    root = write_project(
        tmp_path / "p", "sqlite:///dev.db", MIGRATIONS, extra=scratch_setting(prod_url)
    )
    with (root / "dbfleet.toml").open("a", encoding="utf-8") as config:
        config.write(POLICY.format(prod=prod_url))
    if git:
        commit_as(root, "Carol Writer", "carol@example.com")
    return root


def commit_as(root: Path, name: str, email: str) -> None:
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    who = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    subprocess.run(["git", "-C", str(root), *who, "add", "migrations"], check=True)
    subprocess.run(["git", "-C", str(root), *who, "commit", "-qm", "migrations"], check=True)


def as_(who: str) -> dict[str, str]:
    return {"DBFLEET_ACTOR": who}


def plan_prod(root: Path, plan_file: Path, who: str = "alice") -> str:
    made = cli(root, "plan", "--env", "prod", "-o", str(plan_file), env=as_(who))
    assert made.exit_code == 0, made.output
    return str(json.loads(plan_file.read_text())["hash"])


def test_prod_runs_a_plan_only_with_two_approvals_by_non_authors_after_staging(
    tmp_path: Path, db_url: str
) -> None:
    root = project_for(tmp_path, db_url)
    plan_file = tmp_path / "plan.json"
    plan_hash = plan_prod(root, plan_file)

    direct = cli(root, "migrate", "--env", "prod")
    assert direct.exit_code == 1 and "runs approved plans only" in direct.stderr
    refused = cli(root, "apply", "--plan", str(plan_file), env=as_("bob"))
    assert refused.exit_code == 1
    assert "has 0 of the 2 approval(s) it needs" in refused.stderr
    assert "not yet applied to staging: V1__customers.sql, V2__orders.sql" in refused.stderr
    assert "dbfleet approve --env prod" in refused.stderr

    author = cli(root, "approve", "--plan", str(plan_file), env=as_("alice"))
    assert author.exit_code == 1 and "approver_not_author" in author.stderr

    first = cli(root, "approve", "--plan", plan_hash[:12], "-m", "looks fine", env=as_("bob"))
    assert first.exit_code == 0, first.output
    assert "bob approved plan" in first.stderr and "(1 of 2 needed)" in first.stderr
    again = cli(root, "approve", "--plan", plan_hash, env=as_("bob"))
    assert again.exit_code == 0 and "already approved" in again.stderr
    one = cli(root, "apply", "--plan", str(plan_file), env=as_("bob"))
    assert one.exit_code == 1 and "has 1 of the 2" in one.stderr
    second = cli(root, "approve", "--plan", str(plan_file), env=as_("dave"))
    assert "(2 of 2 needed)" in second.stderr

    # Re-planning the unchanged target gives the same hash: the approvals still hold.
    assert plan_prod(root, tmp_path / "again.json", who="erin") == plan_hash

    not_promoted = cli(root, "apply", "--plan", str(plan_file), env=as_("bob"))
    assert not_promoted.exit_code == 1 and "approval" not in not_promoted.stderr
    assert "not yet applied to staging" in not_promoted.stderr
    assert cli(root, "migrate", "--env", "staging").exit_code == 0

    applied = cli(root, "apply", "--plan", str(plan_file), env=as_("bob"))
    assert applied.exit_code == 0, applied.output
    assert [v for v, _, ok in history(db_url) if ok] == ["1", "2"]

    listed = json.loads(cli(root, "approvals", "--env", "prod", "--json").stdout)["approvals"]
    assert [(a["approver"], a["state"]) for a in listed] == [("dave", "valid"), ("bob", "valid")]
    assert listed[1]["comment"] == "looks fine"


def test_revoked_and_forged_approvals_do_not_count(tmp_path: Path, sqlite_url: str) -> None:
    root = project_for(tmp_path, sqlite_url)
    assert cli(root, "migrate", "--env", "staging").exit_code == 0
    plan_file = tmp_path / "plan.json"
    plan_hash = plan_prod(root, plan_file)
    for who in ("bob", "dave"):
        assert cli(root, "approve", "--plan", str(plan_file), env=as_(who)).exit_code == 0

    revoked = cli(root, "approve", "--plan", str(plan_file), "--revoke", env=as_("dave"))
    assert revoked.exit_code == 0 and "revoked dave's approval" in revoked.stderr
    # Someone with write access to the state store adds an approval by hand.
    with sqlite3.connect(root / ".dbfleet" / "state.db") as store:
        store.execute(
            "INSERT INTO approvals (id, plan_hash, environment, approver, approved_at, digest) "
            "VALUES ('x', ?, 'prod', 'mallory', '2026-01-01T00:00:00.000Z', 'deadbeef')",
            (plan_hash,),
        )
    refused = cli(root, "apply", "--plan", str(plan_file), env=as_("bob"))
    assert refused.exit_code == 1 and "has 1 of the 2" in refused.stderr
    assert "approval by mallory does not count" in refused.stderr
    assert "edited outside dbfleet" in refused.stderr
    assert "customers" not in tables(sqlite_url)  # nothing ran

    table = cli(root, "approvals", "--plan", plan_hash[:12])
    assert table.exit_code == 0
    for state in ("valid", "revoked", "forged"):
        assert state in table.stdout


def test_migration_authors_in_git_cannot_approve(tmp_path: Path, sqlite_url: str) -> None:
    root = project_for(tmp_path, sqlite_url)
    plan_file = tmp_path / "plan.json"
    plan_prod(root, plan_file, who="ci-bot")
    # GitHub's actor is a login: it matches the local part of the author's email.
    for who in ("carol", "carol@example.com", "Carol Writer"):
        refused = cli(root, "approve", "--plan", str(plan_file), env=as_(who))
        assert refused.exit_code == 1 and "cannot approve" in refused.stderr, who
    assert cli(root, "approve", "--plan", str(plan_file), env=as_("bob")).exit_code == 0


def test_bad_approvals_are_refused_with_one_line(tmp_path: Path, sqlite_url: str) -> None:
    root = project_for(tmp_path, sqlite_url)
    unknown = cli(root, "approve", "--plan", "0123456789abcdef0123")
    assert unknown.exit_code == 1 and "no plan with that hash" in unknown.stderr
    short = cli(root, "approve", "--plan", "abc")
    assert short.exit_code == 1 and "at least 12 hex digits" in short.stderr
    junk = cli(root, "approve", "--plan", "zzzzzzzzzzzzzz")  # never a wildcard for every plan
    assert junk.exit_code == 1 and "at least 12 hex digits" in junk.stderr
    missing = cli(root, "approve", "--plan", "plan.json.bak")
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    plan_file = tmp_path / "plan.json"
    plan_prod(root, plan_file)
    wrong_env = cli(root, "approve", "--plan", str(plan_file), "--env", "staging")
    assert wrong_env.exit_code == 1 and "was made for prod, not staging" in wrong_env.stderr
    edited = json.loads(plan_file.read_text())
    edited["statements"] = ["DROP TABLE customers"]
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    forged = cli(root, "approve", "--plan", str(tmp_path / "edited.json"), env=as_("bob"))
    assert forged.exit_code == 1 and "changed after it was made" in forged.stderr
    for result in (unknown, short, wrong_env, forged):
        assert "Traceback" not in result.output and len(result.stderr.splitlines()) <= 2

    (root / "dbfleet.toml").write_text(
        (root / "dbfleet.toml")
        .read_text()
        .replace('promote_from = "staging"', 'promote_from = "qa"')
    )
    bad = cli(root, "status", "--env", "prod")
    assert bad.exit_code == 1 and "promote_from names 'qa', which is not defined" in bad.stderr


def test_history_filters_by_command_result_and_time(tmp_path: Path, sqlite_url: str) -> None:
    root = write_project(tmp_path / "p", sqlite_url, MIGRATIONS)
    (root / "migrations" / "V3__broken.sql").write_text("CREATE TABLE oops (;\n")
    assert cli(root, "migrate").exit_code == 1
    runs = json.loads(cli(root, "history", "--json").stdout)["runs"]
    assert [(r["command"], r["result"]) for r in runs] == [("migrate", "failed")]
    assert json.loads(cli(root, "history", "--result", "ok", "--json").stdout)["runs"] == []
    failed = cli(root, "history", "--command", "migrate", "--result", "failed", "--since", "1h")
    assert failed.exit_code == 0 and "failed" in failed.stdout
    later = cli(root, "history", "--since", "2999-01-01", "--json")
    assert json.loads(later.stdout)["runs"] == []
    bad = cli(root, "history", "--since", "yesterday")
    assert bad.exit_code == 1 and "--since yesterday: not a date" in bad.stderr


def test_a_fleet_rolls_out_only_an_approved_plan_of_its_template(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "sqlite:///dev.db", MIGRATIONS)
    with (root / "dbfleet.toml").open("a", encoding="utf-8") as config:
        config.write(
            "\n[environments.prod]\nrequires_approval = true\n"
            '[environments.prod.fleet]\ntemplate = "sqlite:///template.db"\n'
            "[environments.prod.fleet.registry]\n"
            'tenants = [{ id = "a", url = "sqlite:///a.db" }, { id = "b", url = "sqlite:///b.db" }]\n'
        )
    direct = cli(root, "fleet", "migrate", "--env", "prod")
    assert direct.exit_code == 1 and "runs approved plans only" in direct.stderr
    plan_file = tmp_path / "plan.json"
    plan_prod(root, plan_file)
    wrong = cli(root, "apply", "--plan", str(plan_file))
    assert wrong.exit_code == 1 and "prod is a fleet" in wrong.stderr
    unapproved = cli(root, "fleet", "migrate", "--env", "prod", "--plan", str(plan_file))
    assert unapproved.exit_code == 1 and "has 0 of the 1 approval(s)" in unapproved.stderr
    assert not (root / "a.db").exists()

    assert cli(root, "approve", "--plan", str(plan_file), env=as_("bob")).exit_code == 0
    rolled = cli(root, "fleet", "migrate", "--env", "prod", "--plan", str(plan_file))
    assert rolled.exit_code == 0, rolled.output
    for db in ("template", "a", "b"):
        assert [v for v, _, ok in history(f"sqlite:///{root / db}.db") if ok] == ["1", "2"]
    stale = cli(root, "fleet", "migrate", "--env", "prod", "--plan", str(plan_file))
    assert stale.exit_code == 1 and "changed since plan" in stale.stderr


def test_an_undo_where_plans_need_approval_says_why(tmp_path: Path, sqlite_url: str) -> None:
    """No plan covers an undo, so on a policy environment it is allowed only with a reason, which
    is recorded with the run; an emergency rollback stays possible and visible."""
    root = project_for(tmp_path, sqlite_url)
    assert cli(root, "migrate", "--env", "staging").exit_code == 0
    plan_file = tmp_path / "plan.json"
    plan_prod(root, plan_file)
    for who in ("bob", "dave"):
        assert cli(root, "approve", "--plan", str(plan_file), env=as_(who)).exit_code == 0
    assert cli(root, "apply", "--plan", str(plan_file), env=as_("bob")).exit_code == 0
    (root / "migrations" / "U2__orders.sql").write_text("DROP TABLE orders;\n")

    bare = cli(root, "undo", "--env", "prod")
    assert bare.exit_code == 1 and "needs --reason" in bare.stderr
    assert cli(root, "undo", "--env", "prod", "--dry-run").exit_code == 0  # looking is free
    done = cli(root, "undo", "--env", "prod", "--reason", "INC-7: orders broke checkout")
    assert done.exit_code == 0, done.output
    assert "orders" not in tables(sqlite_url)
    runs = json.loads(cli(root, "history", "--env", "prod", "--json").stdout)["runs"]
    assert (runs[0]["command"], runs[0]["note"]) == ("undo", "INC-7: orders broke checkout")
    assert "INC-7" in cli(root, "history", "--env", "prod").stdout


def test_one_person_counts_once_and_authors_unknown_to_git_fail_closed(
    tmp_path: Path, sqlite_url: str
) -> None:
    root = project_for(tmp_path, sqlite_url)
    assert cli(root, "migrate", "--env", "staging").exit_code == 0
    plan_file = tmp_path / "plan.json"
    plan_prod(root, plan_file)
    # Bob under his login and under his email is one approver, not two.
    assert cli(root, "approve", "--plan", str(plan_file), env=as_("bob")).exit_code == 0
    again = cli(root, "approve", "--plan", str(plan_file), env=as_("bob@corp.example"))
    assert again.exit_code == 0 and "already approved" in again.stderr
    assert cli(root, "apply", "--plan", str(plan_file)).exit_code == 1
    revoked = cli(
        root, "approve", "--plan", str(plan_file), "--revoke", env=as_("bob@corp.example")
    )
    assert "revoked" in revoked.stderr
    listed = json.loads(cli(root, "approvals", "--json").stdout)["approvals"]
    assert [a["state"] for a in listed] == ["revoked"]
    # Undoing the revocation by hand in the store breaks the row's signature: it does not count.
    with sqlite3.connect(root / ".dbfleet" / "state.db") as store:
        store.execute("UPDATE approvals SET revoked_at = NULL, revoked_by = NULL")
    listed = json.loads(cli(root, "approvals", "--json").stdout)["approvals"]
    assert [a["state"] for a in listed] == ["forged"]

    # Without the migrations' git history, approver_not_author cannot be checked: refused.
    nogit = project_for(tmp_path / "nogit", sqlite_url, git=False)
    other_plan = tmp_path / "nogit.json"
    plan_prod(nogit, other_plan)
    refused = cli(nogit, "approve", "--plan", str(other_plan), env=as_("bob"))
    assert refused.exit_code == 1 and "approver_not_author" in refused.stderr
    assert "not a git repository" in refused.stderr


def test_a_url_override_cannot_reach_a_database_that_runs_approved_plans_only(
    tmp_path: Path, sqlite_url: str
) -> None:
    root = project_for(tmp_path, sqlite_url)
    dev_plan = tmp_path / "dev.json"
    assert cli(root, "plan", "--env", "dev", "-o", str(dev_plan)).exit_code == 0
    # The dev plan pointed at prod's database: refused, nothing runs there.
    sneaky = cli(root, "apply", "--plan", str(dev_plan), env={"DBFLEET_URL": sqlite_url})
    assert sneaky.exit_code == 1 and "approved plans only" in sneaky.stderr
    direct = cli(root, "migrate", "--env", "prod", "--url", sqlite_url)
    assert direct.exit_code == 1 and "approved plans only" in direct.stderr
    assert "customers" not in tables(sqlite_url)
    # A run on another database recorded under staging's name does not promote anything.
    elsewhere = f"sqlite:///{tmp_path / 'scratch.db'}"
    assert cli(root, "migrate", "--env", "staging", "--url", elsewhere).exit_code == 0
    prod_plan = tmp_path / "prod.json"
    plan_prod(root, prod_plan)
    for who in ("bob", "dave"):
        assert cli(root, "approve", "--plan", str(prod_plan), env=as_(who)).exit_code == 0
    refused = cli(root, "apply", "--plan", str(prod_plan))
    assert refused.exit_code == 1 and "not yet applied to staging" in refused.stderr
