"""The [pipeline] table: stages in the order their needs allow, built-in and shell steps, and one
clear line naming where a bad pipeline is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dbfleet.errors import ConfigError
from dbfleet.pipeline.definition import Pipeline, parse_pipeline

SOURCE = "/work/app/dbfleet.toml"
ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "staging": {"url": "sqlite:///staging.db"},
    "prod": {"url": "sqlite:///prod.db", "requires_approval": True},
    "tenants": {"fleet": {"template": "sqlite:///template.db"}},
}
RELEASE: list[dict[str, Any]] = [
    {
        "name": "verify",
        "steps": [
            "lint",
            "test",
            {"run": "terraform validate", "cwd": "infra"},
            {"run": "pytest -q", "timeout": "10m", "env": {"CI": True, "N": 2}},
        ],
    },
    {"name": "staging", "steps": ["plan:staging", "apply:staging"]},
    {"name": "approve", "steps": ["approve:prod"]},
    {"name": "prod", "steps": ["plan:prod", "apply:prod"]},
]


def parse(root: Path, stages: Any, **extra: Any) -> Pipeline:
    (root / "infra").mkdir(exist_ok=True)
    return parse_pipeline(
        {"stages": stages, **extra}, source=SOURCE, environments=ENVIRONMENTS, root=root
    )


def refused(root: Path, stages: Any, *, partitions: bool = False) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_pipeline(
            {"stages": stages} if stages is not None else {},
            source=SOURCE,
            environments=ENVIRONMENTS,
            root=root,
            has_partitions=partitions,
        )
    message = str(caught.value)
    assert message.startswith(SOURCE), "names the file"
    assert "\n" not in message, "one line"
    return message


def test_the_release_pipeline_parses_into_stages_of_steps(tmp_path: Path) -> None:
    pipeline = parse(tmp_path, RELEASE)
    assert pipeline.names == ["verify", "staging", "approve", "prod"]
    verify = pipeline.stages[0]
    assert [s.name for s in verify.steps] == ["lint", "test", "terraform validate", "pytest -q"]
    terraform, pytest_step = verify.steps[2], verify.steps[3]
    assert terraform.kind == "run" and terraform.cwd == (tmp_path / "infra").resolve()
    assert pytest_step.timeout == 600 and pytest_step.timeout_text == "10m"
    assert pytest_step.env == (("CI", "true"), ("N", "2"))
    staging = pipeline.stages[1]
    plan, apply = staging.steps
    assert (plan.kind, plan.environment) == ("plan", "staging")
    assert staging.waits_for(apply) == plan and staging.waits_for(plan) is None
    assert pipeline.stages[2].needs == ("staging",)  # by default, the stage before


def test_needs_decide_the_order_and_from_to_select_stages(tmp_path: Path) -> None:
    pipeline = parse(
        tmp_path,
        [
            {"name": "deploy", "steps": ["apply:staging"], "needs": ["check", "build"]},
            {"name": "check", "steps": ["lint"], "needs": []},
            {"name": "build", "steps": [{"run": "make", "timeout": 30}]},
        ],
    )
    assert pipeline.names == ["check", "build", "deploy"]
    assert pipeline.stages[1].steps[0].timeout_text == "30s"
    assert [s.name for s in pipeline.select("build")] == ["build", "deploy"]
    assert [s.name for s in pipeline.select(to_stage="build")] == ["check", "build"]
    assert [s.name for s in pipeline.select("build", "build")] == ["build"]


def test_a_step_can_be_named_and_fleet_steps_need_a_fleet(tmp_path: Path) -> None:
    pipeline = parse(
        tmp_path,
        [{"name": "s", "steps": ["fleet-status:tenants", {"run": "./smoke.sh", "name": "smoke"}]}],
    )
    assert [s.name for s in pipeline.stages[0].steps] == ["fleet-status:tenants", "smoke"]


@pytest.mark.parametrize(
    ("stages", "said"),
    [
        (None, "no [pipeline] stages defined"),
        ([], "pipeline.stages must be a list of tables"),
        ([{"name": "a", "steps": ["lint", "deploy"]}], "stages[1].steps[2]: unknown step 'deploy'"),
        ([{"name": "a", "steps": ["lnit"]}], "did you mean 'lint'?"),
        (
            [{"name": "a", "steps": ["lint"]}, {"name": "b", "steps": ["plan:qa"]}],
            "stages[2].steps[1]: step 'plan:qa' names the environment 'qa', which is not defined",
        ),
        ([{"name": "a", "steps": ["plan"]}], "'plan' needs an environment"),
        ([{"name": "a", "steps": ["lint:prod"]}], "'lint' takes no environment"),
        ([{"name": "a", "steps": ["fleet-status:prod"]}], "prod is not a fleet"),
        ([{"name": "a", "steps": ["maintain:prod"]}], "none are declared"),
        (
            [{"name": "a", "steps": ["lint"]}, {"name": "a", "steps": ["test"]}],
            "stages[2].name: there is already a stage named 'a'",
        ),
        ([{"steps": ["lint"]}], "stages[1]: 'name' is missing"),
        ([{"name": "a", "steps": []}], "stages[1].steps: must be a list of steps"),
        ([{"name": "a", "steps": ["lint"], "when": "main"}], "stages[1]: unknown key 'when'"),
        (
            [{"name": "a", "steps": ["lint", "lint"]}],
            "stages[1].steps[2]: stage 'a' already has a step named 'lint'",
        ),
        ([{"name": "a", "steps": [{"cwd": "infra"}]}], "steps[1]: 'run' is missing"),
        ([{"name": "a", "steps": [{"run": "x", "shell": "bash"}]}], "unknown key 'shell'"),
        ([{"name": "a", "steps": [{"run": "x", "timeout": "soon"}]}], "'soon' is not a duration"),
        ([{"name": "a", "steps": [{"run": "x", "timeout": 0}]}], "timeout: must be more than 0"),
        ([{"name": "a", "steps": [{"run": "x", "cwd": "nowhere"}]}], "there is no folder nowhere"),
        ([{"name": "a", "steps": [{"run": "x", "env": ["A=1"]}]}], "env: must be a table"),
        (
            [{"name": "a", "steps": ["lint"], "needs": ["build"]}],
            "stages[1].needs: there is no stage 'build'",
        ),
        ([{"name": "a", "steps": ["lint"], "needs": ["a"]}], "stage 'a' needs itself"),
        (
            [
                {"name": "a", "steps": ["lint"], "needs": ["c"]},
                {"name": "b", "steps": ["test"]},
                {"name": "c", "steps": ["plan:staging"]},
            ],
            "the stages a -> c -> b -> a need each other (a cycle)",
        ),
    ],
)
def test_a_bad_pipeline_is_one_line_naming_where(tmp_path: Path, stages: Any, said: str) -> None:
    assert said in refused(tmp_path, stages)


def test_maintain_steps_run_where_partitions_are_declared(tmp_path: Path) -> None:
    pipeline = parse_pipeline(
        {"stages": [{"name": "m", "steps": ["maintain:prod"]}]},
        source=SOURCE,
        environments=ENVIRONMENTS,
        root=tmp_path,
        has_partitions=True,
    )
    assert pipeline.stages[0].steps[0].kind == "maintain"


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        ("qa", None, "--from qa: there is no stage of that name"),
        (None, "prdo", "did you mean 'prod'?"),
        ("prod", "staging", "--from prod comes after --to staging"),
    ],
)
def test_from_and_to_must_name_stages_in_order(
    tmp_path: Path, start: str | None, end: str | None, said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(tmp_path, RELEASE).select(start, end)
    assert said in str(caught.value)
