"""The [pipeline] table of dbfleet.toml, parsed and checked into stages of steps.

Stages run one after another in the order their `needs` allow (by default each needs the one
before it); the steps of a stage run in parallel, except that `apply:ENV` waits for `plan:ENV`
of the same stage. Everything that can be wrong with the table is found here, before anything
runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbfleet.config import duration_seconds
from dbfleet.errors import ConfigError

if TYPE_CHECKING:
    from dbfleet.config import Project

# Built-in steps, and whether each names an environment (`plan:staging`) or takes none (`lint`).
BUILTIN_STEPS: dict[str, bool] = {
    "lint": False,
    "test": False,
    "plan": True,
    "apply": True,
    "drift": True,
    "approve": True,
    "fleet-status": True,
    "maintain": True,
}
CUSTOM_KEYS = ("run", "name", "cwd", "env", "timeout")
STAGE_KEYS = ("name", "steps", "needs")
EXAMPLE = (
    '[pipeline] stages = [ { name = "verify", steps = ["lint", "test"] }, '
    '{ name = "staging", steps = ["plan:staging", "apply:staging"] } ]'
)


@dataclass(frozen=True)
class Step:
    """One step of a stage: a built-in dbfleet command (`kind` is its name) or a shell command
    (`kind` is "run")."""

    name: str  # as shown in output and recorded: "lint", "plan:staging", a custom step's name
    kind: str
    environment: str | None = None
    run: str | None = None
    cwd: Path | None = None
    env: tuple[tuple[str, str], ...] = ()
    timeout: float | None = None  # seconds
    timeout_text: str | None = None  # as written ("10m"), for messages
    where: str = ""  # "pipeline.stages[1].steps[2]", for messages

    @property
    def after(self) -> str | None:
        """The step of the same stage this one waits for: apply:ENV applies plan:ENV's plan."""
        return f"plan:{self.environment}" if self.kind == "apply" else None


@dataclass(frozen=True)
class Stage:
    name: str
    steps: tuple[Step, ...]
    needs: tuple[str, ...]

    def waits_for(self, step: Step) -> Step | None:
        """The step of this stage that `step` must wait for, if there is one."""
        return next((s for s in self.steps if s.name == step.after), None)


@dataclass(frozen=True)
class Pipeline:
    stages: tuple[Stage, ...]  # in the order they run

    @property
    def names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def select(
        self, from_stage: str | None = None, to_stage: str | None = None
    ) -> tuple[Stage, ...]:
        """The stages from `from_stage` to `to_stage` (both included), in the order they run."""
        start = self._index(from_stage, "--from") if from_stage is not None else 0
        end = self._index(to_stage, "--to") if to_stage is not None else len(self.stages) - 1
        if start > end:
            raise ConfigError(
                f"--from {from_stage} comes after --to {to_stage}",
                hint="stages run in this order: " + ", ".join(self.names),
            )
        return self.stages[start : end + 1]

    def _index(self, name: str, option: str) -> int:
        if name not in self.names:
            raise ConfigError(
                f"{option} {name}: there is no stage of that name",
                hint=_suggest(name, self.names, "stages"),
            )
        return self.names.index(name)


def load_pipeline(project: Project) -> Pipeline:
    """The project's pipeline, checked against its environments, partitions and folders."""
    return parse_pipeline(
        project.pipeline,
        source=project.source,
        environments=project.environments,
        root=project.root,
        has_partitions=bool(project.partitions),
    )


def parse_pipeline(
    data: Mapping[str, Any],
    *,
    source: str,
    environments: Mapping[str, Mapping[str, Any]],
    root: Path,
    has_partitions: bool = False,
) -> Pipeline:
    """Check a [pipeline] table; every problem is a ConfigError naming where it is."""
    if not data or "stages" not in data:
        raise ConfigError(f"{source}: no [pipeline] stages defined", hint=f"add {EXAMPLE}")
    raw = data["stages"]
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            f"{source}: pipeline.stages must be a list of tables like "
            '{ name = "verify", steps = ["lint"] }'
        )
    context = _Context(source, environments, root, has_partitions)
    stages: list[Stage] = []
    for number, table in enumerate(raw, 1):
        stage = context.stage(table, f"pipeline.stages[{number}]", stages)
        stages.append(stage)
    return Pipeline(_in_order(stages, source))


@dataclass(frozen=True)
class _Context:
    source: str
    environments: Mapping[str, Mapping[str, Any]]
    root: Path
    has_partitions: bool

    def error(self, where: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.source}: {where}: {message}", hint=hint)

    def stage(self, table: Any, where: str, earlier: Sequence[Stage]) -> Stage:
        if not isinstance(table, dict):
            raise self.error(where, 'must be a table like { name = "verify", steps = ["lint"] }')
        for key in table:
            if key not in STAGE_KEYS:
                raise self.error(where, f"unknown key '{key}'", _suggest(key, STAGE_KEYS, "keys"))
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.error(where, "'name' is missing", hint='add name = "..."')
        if any(stage.name == name for stage in earlier):
            raise self.error(
                f"{where}.name", f"there is already a stage named '{name}'", "rename one of them"
            )
        steps = table.get("steps")
        if not isinstance(steps, list) or not steps:
            raise self.error(
                f"{where}.steps", 'must be a list of steps like ["lint", "plan:staging"]'
            )
        checked: list[Step] = []
        for number, raw in enumerate(steps, 1):
            step = self.step(raw, f"{where}.steps[{number}]")
            if any(s.name == step.name for s in checked):
                raise self.error(
                    f"{where}.steps[{number}]",
                    f"stage '{name}' already has a step named '{step.name}'",
                    'give one of them a name = "..."',
                )
            checked.append(step)
        if "needs" in table:
            needs = table["needs"]
            if isinstance(needs, str):
                needs = [needs]
            if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
                raise self.error(f"{where}.needs", "must be a list of stage names")
            needs = tuple(needs)
        else:
            needs = (earlier[-1].name,) if earlier else ()
        return Stage(name, tuple(checked), needs)

    def step(self, raw: Any, where: str) -> Step:
        if isinstance(raw, str):
            return self.builtin(raw, where)
        if not isinstance(raw, dict):
            raise self.error(
                where, 'must be a built-in step like "lint" or a table like { run = "..." }'
            )
        for key in raw:
            if key not in CUSTOM_KEYS:
                raise self.error(where, f"unknown key '{key}'", _suggest(key, CUSTOM_KEYS, "keys"))
        run = raw.get("run")
        if not isinstance(run, str) or not run.strip():
            raise self.error(where, "'run' is missing", hint='add run = "the shell command"')
        name = raw.get("name", run.strip())
        if not isinstance(name, str) or not name.strip():
            raise self.error(f"{where}.name", "must be a non-empty string")
        cwd = None
        if "cwd" in raw:
            if not isinstance(raw["cwd"], str):
                raise self.error(f"{where}.cwd", "must be a folder (a string)")
            cwd = (self.root / raw["cwd"]).resolve()
            if not cwd.is_dir():
                raise self.error(
                    f"{where}.cwd",
                    f"there is no folder {raw['cwd']} in {self.root}",
                    "create it or fix the path (relative to the project)",
                )
        env = raw.get("env", {})
        if not isinstance(env, dict) or any(isinstance(v, dict | list) for v in env.values()):
            raise self.error(f"{where}.env", 'must be a table like { NAME = "value" }')
        timeout = text = None
        if "timeout" in raw:
            given = raw["timeout"]
            text = f"{given:g}s" if isinstance(given, int | float) else str(given).strip()
            timeout = duration_seconds(raw["timeout"], f"{self.source}: {where}.timeout")
            if timeout <= 0:
                raise self.error(f"{where}.timeout", "must be more than 0", 'e.g. "10m"')
        return Step(
            name=name.strip(),
            kind="run",
            run=run,
            cwd=cwd,
            env=tuple((str(k), _text(v)) for k, v in env.items()),
            timeout=timeout,
            timeout_text=text,
            where=where,
        )

    def builtin(self, text: str, where: str) -> Step:
        kind, colon, environment = text.strip().partition(":")
        if kind not in BUILTIN_STEPS:
            raise self.error(
                where,
                f"unknown step '{text}'",
                _suggest(kind, list(BUILTIN_STEPS), "built-in steps")
                + '; a shell command is written { run = "..." }',
            )
        if not BUILTIN_STEPS[kind]:
            if colon:
                raise self.error(where, f"'{kind}' takes no environment", f'write "{kind}"')
            return Step(name=kind, kind=kind, where=where)
        if not environment:
            raise self.error(where, f"'{kind}' needs an environment", f'write "{kind}:ENV"')
        if environment not in self.environments:
            raise self.error(
                where,
                f"step '{text}' names the environment '{environment}', which is not defined",
                _suggest(environment, sorted(self.environments), "defined environments"),
            )
        if kind == "fleet-status" and "fleet" not in self.environments[environment]:
            raise self.error(
                where,
                f"'{text}': {environment} is not a fleet",
                f"add [environments.{environment}.fleet], or drop the step",
            )
        if kind == "maintain" and not self.has_partitions:
            raise self.error(
                where,
                f"'{text}' maintains partitions, but none are declared",
                "add [[partitions]] tables, or drop the step",
            )
        return Step(name=f"{kind}:{environment}", kind=kind, environment=environment, where=where)


def _in_order(stages: Sequence[Stage], source: str) -> tuple[Stage, ...]:
    """The stages in an order their `needs` allow, as close to the written order as possible."""
    names = [stage.name for stage in stages]
    for number, stage in enumerate(stages, 1):
        for need in stage.needs:
            if need not in names:
                raise ConfigError(
                    f"{source}: pipeline.stages[{number}].needs: there is no stage '{need}'",
                    hint=_suggest(need, names, "stages"),
                )
            if need == stage.name:
                raise ConfigError(
                    f"{source}: pipeline.stages[{number}].needs: stage '{need}' needs itself"
                )
    done: list[Stage] = []
    left = list(stages)
    while left:
        ready = next(
            (s for s in left if all(need in {d.name for d in done} for need in s.needs)), None
        )
        if ready is None:
            cycle = _cycle(left)
            number = names.index(cycle[0]) + 1
            raise ConfigError(
                f"{source}: pipeline.stages[{number}].needs: the stages "
                f"{' -> '.join([*cycle, cycle[0]])} need each other (a cycle)",
                hint="remove one of these needs",
            )
        done.append(ready)
        left.remove(ready)
    return tuple(done)


def _cycle(left: Sequence[Stage]) -> list[str]:
    """A cycle among stages none of which can run: follow unmet needs until one repeats."""
    by_name = {stage.name: stage for stage in left}
    path = [left[0].name]
    while True:
        follow = next(n for n in by_name[path[-1]].needs if n in by_name)
        if follow in path:
            return path[path.index(follow) :]
        path.append(follow)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _suggest(name: str, known: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return hint + f"{what}: " + (", ".join(known) or "none")
