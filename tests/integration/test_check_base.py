"""`dbfleet check --base REF`: what a pull request does to migrations already merged, from git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import Result, cli

# `check` must never resolve or connect to the project's database: this URL can do neither.
UNREACHABLE = "postgresql://nobody:${env:DBFLEET_TEST_NEVER_SET}@127.0.0.1:9/never"

MERGED = {
    "V1__customers.sql": "CREATE TABLE customers (id INTEGER PRIMARY KEY);\n",
    "U1__customers.sql": "DROP TABLE customers;\n",
    "V2__orders.sql": "CREATE TABLE orders (id INTEGER PRIMARY KEY);\n",
    "R__views.sql": "CREATE VIEW v AS SELECT 1 AS one;\n",
}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("utf-8"))


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def new_repo(tmp_path: Path, *, sub: str = "", extra: str = "") -> tuple[Path, Path]:
    """A git repository whose main holds MERGED, checked out on a new branch `feature`.

    Returns (repository, project): the project is the folder `sub` of the repository.
    """
    repo = tmp_path / "repo"
    project = repo / sub if sub else repo
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "config", "core.autocrlf", "false")
    project.mkdir(parents=True, exist_ok=True)
    (project / "dbfleet.toml").write_text(
        f'[project]\nname = "shop"\n{extra}\n[environments.dev]\nurl = "{UNREACHABLE}"\n',
        encoding="utf-8",
    )
    write(project / "migrations", MERGED)
    commit_all(repo, "first migrations")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo, project


def on_main(repo: Path, change: dict[str, str], message: str = "main moves on") -> None:
    """Commit `change` (paths relative to the repository) on main, back on feature after."""
    git(repo, "checkout", "-q", "main")
    for path, text in change.items():
        write((repo / path).parent, {Path(path).name: text})
    commit_all(repo, message)
    git(repo, "checkout", "-q", "feature")


def check(project: Path, *args: str) -> Result:
    return cli(project, "check", "--base", "main", *args)


def problems(project: Path) -> list[tuple[str, str]]:
    result = check(project, "--json")
    data = json.loads(result.stdout)
    return [(p["kind"], p["file"]) for p in data["problems"]]


def test_a_branch_that_only_adds_a_new_version_passes(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    commit_all(repo, "invoices")
    # Repeatable migrations are meant to be edited: not a problem.
    write(project / "migrations", {"R__views.sql": "CREATE VIEW v AS SELECT 2 AS two;\n"})
    result = check(project)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no problems against main" in result.stderr


def test_editing_a_merged_migration_is_reported_with_what_to_do(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V2__orders.sql": "CREATE TABLE orders (id BIGINT);\n"})
    write(project / "migrations", {"U1__customers.sql": "DROP TABLE IF EXISTS customers;\n"})
    commit_all(repo, "edit merged migrations")
    result = check(project)
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("migrations/U1__customers.sql: undo script edited after it was")
    assert lines[1].startswith("migrations/V2__orders.sql: migration edited after it was merged")
    assert "restore it as it is on main and put the change in a new migration" in lines[1]
    assert "Traceback" not in result.output


def test_uncommitted_edits_count_too(tmp_path):
    _, project = new_repo(tmp_path)
    write(project / "migrations", {"V1__customers.sql": "CREATE TABLE customers (id INT);\n"})
    assert problems(project) == [("edited", "migrations/V1__customers.sql")]


def test_line_endings_alone_are_not_an_edit(tmp_path):
    repo, project = new_repo(tmp_path)
    crlf = MERGED["V2__orders.sql"].replace("\n", "\r\n")
    write(project / "migrations", {"V2__orders.sql": crlf})
    commit_all(repo, "CRLF")
    result = check(project)
    assert result.exit_code == 0, result.output


def test_a_fix_made_on_main_after_the_branch_started_is_not_this_branchs_edit(tmp_path):
    repo, project = new_repo(tmp_path)
    on_main(repo, {"migrations/V2__orders.sql": "CREATE TABLE orders (id BIGINT);\n"})
    assert check(project).exit_code == 0


def test_deleting_a_merged_migration_is_reported(tmp_path):
    repo, project = new_repo(tmp_path)
    (project / "migrations" / "V2__orders.sql").unlink()
    (project / "migrations" / "U1__customers.sql").unlink()
    commit_all(repo, "drop old ones")
    result = check(project)
    assert result.exit_code == 2, result.output
    assert problems(project) == [
        ("deleted", "migrations/U1__customers.sql"),
        ("deleted", "migrations/V2__orders.sql"),
    ]
    assert "migrations/V2__orders.sql: migration deleted, but it is merged into main" in (
        result.stdout
    )
    assert "dbfleet undo` can no longer undo V1" in result.stdout


def test_renaming_a_merged_migration_is_reported_as_a_rename(tmp_path):
    repo, project = new_repo(tmp_path)
    git(repo, "mv", "migrations/V2__orders.sql", "migrations/V2__all_orders.sql")
    with (project / "migrations" / "V2__all_orders.sql").open("a", encoding="utf-8") as file:
        file.write("-- every order\n")  # a little edit too: git still sees a rename
    commit_all(repo, "better name")
    result = check(project)
    assert result.exit_code == 2, result.output
    assert result.stdout.strip() == (
        "migrations/V2__orders.sql: migration renamed to migrations/V2__all_orders.sql after "
        "it was merged into main; environments that applied it recorded the old name and "
        "`dbfleet validate` fails on them: rename it back"
    )


def test_a_rename_not_yet_added_to_git_is_still_a_rename(tmp_path):
    _, project = new_repo(tmp_path)
    folder = project / "migrations"
    (folder / "V2__orders.sql").rename(folder / "V2__orders_table.sql")
    assert problems(project) == [("renamed", "migrations/V2__orders.sql")]


def test_a_version_also_added_on_main_since_the_branch_started_collides(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    commit_all(repo, "invoices")
    on_main(repo, {"migrations/V3__refunds.sql": "CREATE TABLE refunds (id INT);\n"})
    result = check(project)
    assert result.exit_code == 2, result.output
    assert result.stdout.strip() == (
        "migrations/V3__invoices.sql: version 3 is also used by migrations/V3__refunds.sql on "
        "main (added there since this branch started): renumber it (and its undo script) "
        "above 3"
    )


def test_the_same_file_name_added_on_both_sides_with_other_content_collides(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    commit_all(repo, "invoices")
    on_main(repo, {"migrations/V3__invoices.sql": "CREATE TABLE invoices (no INT);\n"})
    result = check(project)
    assert result.exit_code == 2, result.output
    assert result.stdout.strip() == (
        "migrations/V3__invoices.sql: also added on main since this branch started, with other "
        "content: renumber it (and its undo script) above 3"
    )


def test_a_collision_is_found_after_main_was_merged_into_the_branch(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    commit_all(repo, "invoices")
    on_main(repo, {"migrations/V3__refunds.sql": "CREATE TABLE refunds (id INT);\n"})
    git(repo, "merge", "-q", "--no-edit", "main")
    assert problems(project) == [("collision", "migrations/V3__invoices.sql")]


def test_a_new_version_below_mains_latest_is_out_of_order(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    commit_all(repo, "invoices")
    on_main(repo, {"migrations/V4__refunds.sql": "CREATE TABLE refunds (id INT);\n"})
    result = check(project)
    assert result.exit_code == 2, result.output
    assert result.stdout.strip() == (
        "migrations/V3__invoices.sql: version 3 is lower than main's latest version 4; "
        "environments already at 4 would refuse it as out of order: renumber it above 4, or "
        "allow that with [migrations] out_of_order = true"
    )


def test_out_of_order_allowed_by_the_project_is_a_note_not_a_failure(tmp_path):
    repo, project = new_repo(tmp_path, extra="[migrations]\nout_of_order = true\n")
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    commit_all(repo, "invoices")
    on_main(repo, {"migrations/V4__refunds.sql": "CREATE TABLE refunds (id INT);\n"})
    result = check(project)
    assert result.exit_code == 0, result.output
    assert "note: migrations/V3__invoices.sql: version 3 is lower than main's latest" in (
        result.stderr
    )
    data = json.loads(check(project, "--json").stdout)
    assert data["problems"] == []
    assert [n["kind"] for n in data["notes"]] == ["out_of_order"]


def test_json_is_a_stable_document(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V2__orders.sql": "CREATE TABLE orders (id BIGINT);\n"})
    commit_all(repo, "edit")
    result = check(project, "--json")
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert data["base"] == "main"
    assert data["merge_base"] == git(repo, "merge-base", "main", "HEAD")
    assert data["base_commit"] == git(repo, "rev-parse", "main")
    assert data["problems"] == [
        {
            "kind": "edited",
            "file": "migrations/V2__orders.sql",
            "version": "2",
            "message": data["problems"][0]["message"],
        }
    ]
    assert data["problems"][0]["message"].startswith("migration edited after it was merged")
    assert data["notes"] == []


def test_migrations_in_a_subfolder_of_the_repository(tmp_path):
    repo, project = new_repo(tmp_path, sub="services/db")
    (project / "migrations" / "V1__customers.sql").unlink()
    write(project / "migrations", {"V2__orders.sql": "CREATE TABLE orders (id BIGINT);\n"})
    commit_all(repo, "edit and delete")
    assert problems(project) == [
        ("deleted", "services/db/migrations/V1__customers.sql"),
        ("edited", "services/db/migrations/V2__orders.sql"),
    ]


def test_not_a_git_repository_is_one_line(tmp_path):
    project = tmp_path / "plain"
    write(project / "migrations", MERGED)
    (project / "dbfleet.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    result = check(project)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "is not in a git repository" in result.stderr


def test_without_git_installed_the_error_says_so(tmp_path):
    _, project = new_repo(tmp_path)
    result = cli(project, "check", "--base", "main", env={"PATH": str(tmp_path / "nothing")})
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "needs git, which is not installed" in result.stderr


def test_an_unknown_base_says_to_fetch_it(tmp_path):
    _, project = new_repo(tmp_path)
    result = cli(project, "check", "--base", "origin/release")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "--base origin/release: no such branch, tag or commit" in result.stderr
    assert "git fetch origin release" in result.stderr


def test_a_shallow_clone_without_the_branch_point_says_to_fetch_more_history(tmp_path):
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    commit_all(repo, "invoices")
    for n in (4, 5):
        on_main(repo, {f"migrations/V{n}__t{n}.sql": f"CREATE TABLE t{n} (id INT);\n"})
    clone = tmp_path / "clone"
    source = repo.as_uri()
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--no-single-branch", source, str(clone)],
        check=True,
        capture_output=True,
    )
    git(clone, "checkout", "-q", "feature")
    result = cli(clone, "check", "--base", "origin/main")
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "shallow clone" in result.stderr and "git fetch --unshallow" in result.stderr


@pytest.mark.parametrize("side", ["branch", "main"])
def test_a_malformed_migration_name_on_either_side_is_an_error(tmp_path, side):
    repo, project = new_repo(tmp_path)
    if side == "branch":
        write(project / "migrations", {"V3_missing_underscore.sql": "SELECT 1;\n"})
        commit_all(repo, "typo")
        named = "migrations/V3_missing_underscore.sql"
    else:
        on_main(repo, {"migrations/v4__lowercase.sql": "SELECT 1;\n"})
        named = "main:migrations/v4__lowercase.sql"
    result = check(project)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert f"not a migration name: {named}" in result.stderr


def test_a_checkout_of_the_pull_requests_merge_commit_finds_the_same_problems(tmp_path):
    # GitHub Actions checks out refs/pull/N/merge by default: the PR merged into its base.
    repo, project = new_repo(tmp_path)
    write(project / "migrations", {"V3__invoices.sql": "CREATE TABLE invoices (id INT);\n"})
    write(project / "migrations", {"V2__orders.sql": "CREATE TABLE orders (id BIGINT);\n"})
    commit_all(repo, "invoices, and an edit")
    on_main(repo, {"migrations/V3__refunds.sql": "CREATE TABLE refunds (id INT);\n"})
    git(repo, "checkout", "-q", "--detach", "main")
    git(repo, "merge", "-q", "--no-edit", "feature")
    assert problems(project) == [
        ("edited", "migrations/V2__orders.sql"),
        ("collision", "migrations/V3__invoices.sql"),
    ]
