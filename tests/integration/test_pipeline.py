"""`dbfleet pipeline run` and `status` on a real project: steps of a stage in parallel, stages in
order, an approval gate bound to the plan's hash, failures, timeouts and interruptions recorded."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import cli, cli_process, history, process_env, tables, write_project

MIGRATIONS = {
    "V1__customers.sql": "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100));\n",
    "V2__orders.sql": "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);\n",
}
ENVIRONMENTS = """
[environments.staging]
url = "sqlite:///staging.db"

[environments.prod]
url = "sqlite:///prod.db"
requires_approval = true
approver_not_author = true
promote_from = "staging"
"""
RELEASE = """
[pipeline]
stages = [
  { name = "verify", steps = [
      "lint",
      "test",
      { run = "sleep 1; echo infra checked in $(basename $PWD)", cwd = "infra", name = "infra" },
      { run = "sleep 1; echo region is $REGION", env = { REGION = "eu" } },
  ] },
  { name = "staging", steps = ["apply:staging", "plan:staging"] },
  { name = "approve", steps = ["approve:prod"] },
  { name = "prod", steps = ["plan:prod", "apply:prod"] },
]
"""


def project(tmp_path: Path, pipeline: str = RELEASE) -> Path:
    root = write_project(tmp_path / "p", "sqlite:///dev.db", MIGRATIONS)
    (root / "infra").mkdir()
    (root / "tests").mkdir()
    (root / "tests" / "customers.sql").write_text(
        "-- test: no customers yet\n-- expect rows: 0\nSELECT * FROM customers;\n"
    )
    with (root / "dbfleet.toml").open("a", encoding="utf-8") as config:
        config.write(ENVIRONMENTS + pipeline)
    # approver_not_author asks git who wrote the migrations: Carol did.
    who = ["-c", "user.name=Carol", "-c", "user.email=carol@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), *who, "add", "migrations"], check=True)
    subprocess.run(["git", "-C", str(root), *who, "commit", "-qm", "migrations"], check=True)
    return root


def as_(who: str) -> dict[str, str]:
    return {"DBFLEET_ACTOR": who}


def status(root: Path, *args: str) -> dict[str, Any]:
    shown = cli(root, "pipeline", "status", "--json", *args)
    assert shown.exit_code == 0, shown.output
    data: dict[str, Any] = json.loads(shown.stdout)
    return data


def steps_by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{s['stage']}/{s['step']}": s for s in data["steps"]}


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_release_runs_verify_in_parallel_applies_to_staging_and_waits_for_approval_of_prod(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    first = cli_process(root, "pipeline", "run", env=as_("alice"))
    assert first.exit_code == 0, first.output
    out = first.stdout
    assert "[verify/lint] lint passed" in out
    assert "[verify/test] 1 passed" in out
    assert "[verify/infra] infra checked in infra" in out
    assert "[verify/sleep 1; echo region is $REGION] region is eu" in out
    assert "[staging/apply:staging] applied plan" in out
    assert [v for v, _, ok in history(f"sqlite:///{root / 'staging.db'}") if ok] == ["1", "2"]
    assert "customers" not in tables(f"sqlite:///{root / 'prod.db'}")
    found = re.search(r"dbfleet approve --env prod --plan ([0-9a-f]{12})", out)
    assert found, out
    plan_hash = found[1]
    assert "dbfleet pipeline run --from approve" in out
    assert f"waiting at stage approve: plan {plan_hash} for prod has 0 of the 1" in out

    recorded = status(root)
    assert recorded["runs"][0]["status"] == "waiting"
    assert recorded["runs"][0]["stopped_at"] == "approve"
    steps = steps_by_name(recorded)
    assert steps["approve/approve:prod"]["status"] == "waiting"
    assert steps["prod/apply:prod"]["status"] == "skipped"
    summary = cli(root, "pipeline", "status", "-f", "md").stdout  # a CI job summary
    assert summary.startswith(f"## Pipeline run `{recorded['run'][:12]}`: waiting")
    assert "stopped at `approve`" in summary and f"> plan {plan_hash} for prod" in summary
    assert "| approve | `approve:prod` | waiting |" in summary
    verify = [s for s in recorded["steps"] if s["stage"] == "verify"]
    assert len(verify) == 4 and all(s["status"] == "ok" for s in verify)
    # In parallel: every verify step started before any of them finished.
    assert max(stamp(s["started_at"]) for s in verify) < min(
        stamp(s["finished_at"]) for s in verify
    )
    sleepers = [s["duration_ms"] for s in verify if "sleep" in s["step"] or s["step"] == "infra"]
    assert min(sleepers) >= 1000
    # apply:staging waited for plan:staging and applied the plan it wrote.
    assert stamp(steps["staging/plan:staging"]["finished_at"]) <= stamp(
        steps["staging/apply:staging"]["started_at"]
    )
    run_dir = root / ".dbfleet" / "pipeline" / recorded["run"]
    assert (run_dir / "plan-staging.json").is_file()
    assert "## dbfleet plan for `staging`" in (run_dir / "plan-staging.md").read_text()

    author = cli(root, "approve", "--env", "prod", "--plan", plan_hash, env=as_("alice"))
    assert author.exit_code == 1 and "cannot approve" in author.stderr
    reviewer = cli(root, "approve", "--env", "prod", "--plan", plan_hash, env=as_("bob"))
    assert reviewer.exit_code == 0, reviewer.output

    second = cli_process(root, "pipeline", "run", "--from", "approve", env=as_("alice"))
    assert second.exit_code == 0, second.output
    assert f"plan {plan_hash} for prod approved (bob)" in second.stdout
    assert f"[prod/apply:prod] applied plan {plan_hash} to prod" in second.stdout
    assert "passed" in second.stdout
    assert [v for v, _, ok in history(f"sqlite:///{root / 'prod.db'}") if ok] == ["1", "2"]
    latest = status(root)
    assert [r["status"] for r in latest["runs"]] == ["ok", "waiting"]
    assert latest["runs"][0]["from_stage"] == "approve"

    text = cli(root, "pipeline", "status")
    assert text.exit_code == 0
    for word in ("waiting", "approve", "alice", "apply:prod", plan_hash):
        assert word in text.stdout, word


def test_a_failed_step_fails_its_stage_and_later_stages_do_not_run(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """
[pipeline]
stages = [
  { name = "check", steps = [
      { run = "echo the schema check broke >&2; exit 4", name = "schema" },
      { run = "sleep 0.5; echo sibling finished", name = "sibling" },
  ] },
  { name = "staging", steps = ["apply:staging"] },
]
""",
    )
    assert "no pipeline runs recorded" in cli(root, "pipeline", "status").stdout
    failed = cli_process(root, "pipeline", "run")
    assert failed.exit_code == 1, failed.output
    assert "[check/schema] the schema check broke" in failed.stdout
    assert "[check/sibling] sibling finished" in failed.stdout  # the stage's others finish
    assert "failed at stage check: check/schema failed (exit 4)" in failed.stdout
    assert not (root / "staging.db").exists()

    recorded = status(root)
    assert recorded["runs"][0]["status"] == "failed"
    assert recorded["runs"][0]["stopped_at"] == "check"
    steps = steps_by_name(recorded)
    assert steps["check/schema"]["status"] == "failed"
    assert steps["check/schema"]["exit_code"] == 4
    assert "the schema check broke" in steps["check/schema"]["log_tail"]
    assert steps["check/sibling"]["status"] == "ok"
    assert steps["staging/apply:staging"]["status"] == "skipped"


def test_apply_plans_for_itself_and_drift_fails_its_step(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """
[pipeline]
stages = [
  { name = "staging", steps = ["apply:staging"] },
  { name = "watch", steps = ["drift:staging"] },
]
""",
    )
    applied = cli_process(root, "pipeline", "run")
    assert applied.exit_code == 0, applied.output
    run_dir = root / ".dbfleet" / "pipeline" / status(root)["run"]
    assert (run_dir / "plan-staging.json").is_file()  # no plan:staging ran: apply made its own
    assert "no drift" in applied.stdout

    with sqlite3.connect(root / "staging.db") as db:
        db.execute("CREATE TABLE hotfix (id INTEGER)")
    drifted = cli_process(root, "pipeline", "run", "--from", "watch")
    assert drifted.exit_code == 1
    assert "[watch/drift:staging] drift in staging" in drifted.stdout
    assert steps_by_name(status(root))["watch/drift:staging"]["exit_code"] == 2


def test_apply_on_a_fleet_rolls_out_to_the_template_and_every_tenant(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """
[environments.tenants.fleet]
template = "sqlite:///db/template.db"
registry = { tenants = [
  { id = "acme", url = "sqlite:///db/acme.db" },
  { id = "globex", url = "sqlite:///db/globex.db" },
] }

[pipeline]
stages = [
  { name = "rollout", steps = ["apply:tenants"] },
  { name = "check", steps = ["fleet-status:tenants"] },
]
""",
    )
    (root / "db").mkdir()
    result = cli_process(root, "pipeline", "run")
    assert result.exit_code == 0, result.output
    assert "[rollout/apply:tenants]" in result.stdout
    assert "[check/fleet-status:tenants]" in result.stdout
    for database in ("template", "acme", "globex"):
        assert [v for v, _, ok in history(f"sqlite:///{root / 'db' / database}.db") if ok] == [
            "1",
            "2",
        ], database
    # The fleet's plan is its template's, and exactly that plan is rolled out.
    assert len(list((root / ".dbfleet" / "pipeline").glob("*/plan-tenants.json"))) == 1


def test_a_step_past_its_timeout_is_killed_and_fails(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """
[pipeline]
stages = [{ name = "slow", steps = [{ run = "echo started; sleep 30", timeout = "1s" }] }]
""",
    )
    started = time.monotonic()
    result = cli_process(root, "pipeline", "run", timeout=20)
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert "[slow/echo started; sleep 30] started" in result.stdout
    assert "timed out after 1s" in result.stdout
    step = status(root)["steps"][0]
    assert step["status"] == "failed" and "timed out after 1s" in step["log_tail"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_pipeline_kills_its_steps_and_is_recorded(
    tmp_path: Path, signum: int
) -> None:
    root = project(
        tmp_path,
        """
[pipeline]
stages = [
  { name = "long", steps = [{ run = "echo $$ > step.pid; exec sleep 60", name = "sleeper" }] },
  { name = "after", steps = ["lint"] },
]
""",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbfleet", "-C", str(root), "pipeline", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=process_env(),
    )
    pid_file = root / "step.pid"
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    step_pid = int(pid_file.read_text())
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 130, output
    assert "interrupted" in output
    with pytest.raises(ProcessLookupError):
        os.kill(step_pid, 0)
    recorded = status(root)
    assert recorded["runs"][0]["status"] == "interrupted"
    assert recorded["runs"][0]["stopped_at"] == "long"
    assert [(s["step"], s["status"]) for s in recorded["steps"]] == [("sleeper", "failed")]


def test_bad_pipelines_and_stage_names_are_refused_before_anything_runs(tmp_path: Path) -> None:
    bare = write_project(tmp_path / "bare", "sqlite:///dev.db", MIGRATIONS)
    missing = cli_process(bare, "pipeline", "run")
    assert missing.exit_code == 1
    assert "no [pipeline] stages defined" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.output

    root = project(
        tmp_path,
        """
[pipeline]
stages = [
  { name = "verify", steps = ["lint"] },
  { name = "staging", steps = ["plan:staging", "deploy:staging"] },
]
""",
    )
    unknown = cli_process(root, "pipeline", "run")
    assert unknown.exit_code == 1
    assert "pipeline.stages[2].steps[2]: unknown step 'deploy:staging'" in unknown.stderr
    assert not (root / ".dbfleet" / "pipeline").exists()

    good = project(tmp_path / "good")
    for args, said in [
        (["--from", "qa"], "--from qa: there is no stage of that name"),
        (["--from", "prod", "--to", "verify"], "--from prod comes after --to verify"),
    ]:
        refused = cli_process(good, "pipeline", "run", *args)
        assert refused.exit_code == 1 and said in refused.stderr, refused.output
    assert not (good / ".dbfleet" / "pipeline").exists()
