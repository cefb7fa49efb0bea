"""Run a pipeline: stages in order, the steps of a stage in parallel, every step recorded.

Built-in steps run as `python -m dbfleet` subprocesses and custom steps as shell commands, each
in its own process group (so that a timeout or Ctrl-C kills what it started too); their output
is streamed line by line with a `[stage/step]` prefix. Worker threads only run processes and
report through a queue: the state store is written from the calling thread alone.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from dbfleet.errors import ConfigError

if TYPE_CHECKING:
    from dbfleet.config import Project
    from dbfleet.pipeline.definition import Stage, Step
    from dbfleet.plan.plan import Plan
    from dbfleet.state.store import StateStore

RUN_DIR = ".dbfleet/pipeline"
LOG_TAIL_LINES = 40
KILL_GRACE_SECONDS = 3.0

# Statuses, as recorded. A run: running, ok, failed, waiting (for an approval), interrupted.
OK, FAILED, WAITING, SKIPPED, INTERRUPTED = "ok", "failed", "waiting", "skipped", "interrupted"


@dataclass(frozen=True)
class StepResult:
    stage: str
    step: str
    status: str
    duration_ms: int | None = None
    exit_code: int | None = None
    message: str | None = None  # why it failed or waits, in a few words


@dataclass(frozen=True)
class PipelineResult:
    run_id: str
    status: str
    stopped_at: str | None
    message: str | None
    steps: tuple[StepResult, ...]
    duration_ms: int
    next_steps: tuple[str, ...] = ()  # what a person does next (approve, continue)

    @property
    def exit_code(self) -> int:
        return {OK: 0, WAITING: 0, INTERRUPTED: 130}.get(self.status, 1)


# --- what worker threads report ---------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    key: tuple[str, str]
    text: str


@dataclass(frozen=True)
class _Done:
    key: tuple[str, str]
    status: str
    exit_code: int | None = None
    message: str | None = None
    plan: Plan | None = None  # an approval gate's plan, judged by the main thread


@dataclass
class _Running:
    step: Step
    started: float
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))


class Interrupted(Exception):
    """The run was cancelled while a worker was about to start a process."""


def run_pipeline(
    project: Project,
    stages: Sequence[Stage],
    store: StateStore,
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    emit: Callable[[str], None],
) -> PipelineResult:
    """Run `stages`, recording the run and each step in `store`; `emit` prints a line."""
    if os.environ.get("DBFLEET_URL"):
        raise ConfigError(
            "DBFLEET_URL is set: it would point every environment of the pipeline at one database",
            hint="unset it; the pipeline's steps name their environments",
        )
    return _Runner(project, store, emit).run(stages, from_stage, to_stage)


class _Runner:
    def __init__(self, project: Project, store: StateStore, emit: Callable[[str], None]) -> None:
        self.project = project
        self.store = store
        self.emit = emit
        self.events: queue.Queue[_Line | _Done] = queue.Queue()
        self.cancelled = threading.Event()
        self.processes: set[subprocess.Popen[bytes]] = set()
        self.lock = threading.Lock()
        self.plans: dict[str, Path] = {}  # environment -> plan file made by plan:ENV in this run
        self.running: dict[tuple[str, str], _Running] = {}
        self.results: list[StepResult] = []
        self.run_id = ""
        self.run_dir = Path()

    # --- the main thread: schedule, print, record --------------------------------------------

    def run(
        self, stages: Sequence[Stage], from_stage: str | None, to_stage: str | None
    ) -> PipelineResult:
        started = time.monotonic()
        run = self.store.start_pipeline(from_stage, to_stage)
        self.run_id = run.id
        self.run_dir = self.project.root / RUN_DIR / run.id
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.emit(f"pipeline run {run.id[:12]}: " + " -> ".join(s.name for s in stages))
        status, message = OK, None
        next_steps: tuple[str, ...] = ()
        stopped_at = stages[-1].name
        try:
            for number, stage in enumerate(stages):
                stopped_at = stage.name
                status, message, next_steps = self._stage(stage)
                if status != OK:
                    for later in stages[number + 1 :]:
                        for step in later.steps:
                            self._skip(later, step, f"stage {stage.name} did not pass")
                    break
        except KeyboardInterrupt:
            with _signals_held():
                self._interrupt()
            status, message, next_steps = INTERRUPTED, "interrupted", ()
        except BaseException as exc:  # e.g. the state store stopped answering: stop, say so
            with _signals_held():
                self._interrupt()
                with suppress(Exception):
                    self.store.finish_pipeline(
                        run.id, FAILED, stopped_at=stopped_at, message=f"dbfleet failed: {exc}"
                    )
            raise
        if status == WAITING and next_steps:
            resume = f"dbfleet pipeline run --from {stopped_at}"
            next_steps = (*next_steps, resume + (f" --to {to_stage}" if to_stage else ""))
        with _signals_held():
            self.store.finish_pipeline(run.id, status, stopped_at=stopped_at, message=message)
        return PipelineResult(
            run.id,
            status,
            stopped_at,
            message,
            tuple(self.results),
            int((time.monotonic() - started) * 1000),
            next_steps,
        )

    def _stage(self, stage: Stage) -> tuple[str, str | None, tuple[str, ...]]:
        """Run one stage; its status, a message when it did not pass, and what to do next."""
        self.emit(f"== stage {stage.name}: " + ", ".join(s.name for s in stage.steps))
        waiting = list(stage.steps)
        finished: dict[str, str] = {}
        gate: tuple[str | None, tuple[str, ...]] = (None, ())
        failures: list[str] = []
        while waiting or self.running:
            for step in list(waiting):
                before = stage.waits_for(step)
                if before is not None and before.name not in finished:
                    continue
                waiting.remove(step)
                if before is not None and finished[before.name] != OK:
                    self._skip(stage, step, f"{before.name} did not pass")
                    finished[step.name] = SKIPPED
                else:
                    self._start(stage, step)
            if not self.running:
                continue  # what was waiting for a skipped step was skipped too
            event = self._next_event()
            if isinstance(event, _Line):
                self._line(event.key, event.text)
                continue
            done = self._gate(event) if event.plan is not None else event
            result = self._finish(done)
            finished[result.step] = result.status
            if result.status == FAILED:
                why = result.message or f"failed (exit {result.exit_code})"
                failures.append(f"{stage.name}/{result.step} {why}")
            elif result.status == WAITING:
                gate = (result.message, self._gate_next_steps(done))
        if failures:
            return FAILED, "; ".join(failures), ()
        if gate[0] is not None:
            return WAITING, gate[0], gate[1]
        return OK, None, ()

    def _next_event(self) -> _Line | _Done:
        while True:
            with suppress(queue.Empty):
                return self.events.get(timeout=0.25)

    def _start(self, stage: Stage, step: Step) -> None:
        key = (stage.name, step.name)
        self.store.step_started(self.run_id, *key)
        self.running[key] = _Running(step, time.monotonic())
        threading.Thread(
            target=self._work,
            args=(key, step),
            name=f"pipeline {stage.name}/{step.name}",
            daemon=True,
        ).start()

    def _skip(self, stage: Stage, step: Step, why: str | None = None) -> None:
        self.store.step_started(self.run_id, stage.name, step.name)
        self.store.step_finished(
            self.run_id,
            stage.name,
            step.name,
            SKIPPED,
            duration_ms=None,
            exit_code=None,
            log_tail=why,
        )
        self.results.append(StepResult(stage.name, step.name, SKIPPED, message=why))

    def _line(self, key: tuple[str, str], text: str) -> None:
        running = self.running.get(key)
        if running is not None:
            running.tail.append(text)
        self.emit(f"[{key[0]}/{key[1]}] {text}")

    def _finish(self, done: _Done) -> StepResult:
        running = self.running.pop(done.key)
        duration = int((time.monotonic() - running.started) * 1000)
        if done.message and done.status in (FAILED, WAITING):
            running.tail.append(done.message)
        self.store.step_finished(
            self.run_id,
            *done.key,
            done.status,
            duration_ms=duration,
            exit_code=done.exit_code,
            log_tail="\n".join(running.tail) or None,
        )
        if done.status == OK and running.step.kind == "plan":
            self.plans[running.step.environment or ""] = self._plan_file(running.step)
        said = {OK: "ok", WAITING: "waiting"}.get(done.status, done.message or done.status)
        if done.status == FAILED and done.message is None and done.exit_code is not None:
            said = f"failed (exit {done.exit_code})"
        self.emit(f"[{done.key[0]}/{done.key[1]}] {said} in {_seconds(duration)}")
        result = StepResult(
            done.key[0],
            done.key[1],
            done.status,
            duration,
            done.exit_code,
            done.message if done.status != OK else None,
        )
        self.results.append(result)
        return result

    def _gate(self, done: _Done) -> _Done:
        from dbfleet.errors import DbfleetError

        try:
            return self._judge(done)
        except DbfleetError as exc:
            self._line(done.key, f"error: {exc}")
            return _Done(done.key, FAILED, message=f"failed: {exc}")

    def _judge(self, done: _Done) -> _Done:
        """An approval gate's verdict on the plan its worker made (the store is read here)."""
        from dbfleet.plan.approvals import judge

        assert done.plan is not None
        made, short = done.plan, done.plan.hash[:12]
        if not made.migrations:
            self._line(done.key, f"nothing pending for {made.environment}: no approval needed")
            return _Done(done.key, OK)
        self.store.record_plan(
            made.hash, made.environment, made.target, made.migrations, planned=True
        )
        environment = self.project.environment(made.environment)
        verdict = judge(self.project, environment, made.hash, made.migrations, self.store)
        problems = verdict.problems()
        for problem in problems:
            self._line(done.key, problem)
        if verdict.approved:
            who = ", ".join(a.approver for a in verdict.counted) or "nobody needed"
            self._line(done.key, f"plan {short} for {made.environment} approved ({who})")
            return _Done(done.key, OK)
        return _Done(done.key, WAITING, message=problems[0], plan=made)

    def _gate_next_steps(self, done: _Done) -> tuple[str, ...]:
        if done.plan is None:
            return ()
        return (f"dbfleet approve --env {done.plan.environment} --plan {done.plan.hash[:12]}",)

    def _interrupt(self) -> None:
        """Ctrl-C or SIGTERM: stop every process, then record what was running as failed."""
        self.cancelled.set()
        self._kill_all()
        deadline = time.monotonic() + KILL_GRACE_SECONDS + 1
        while self.running and time.monotonic() < deadline:
            with suppress(queue.Empty):
                event = self.events.get(timeout=0.1)
                if isinstance(event, _Line):
                    self._line(event.key, event.text)
                elif event.key in self.running and event.plan is None and event.status == OK:
                    self._finish(event)
                elif event.key in self.running:
                    self._finish(_Done(event.key, FAILED, event.exit_code, "interrupted"))
        for key in list(self.running):
            self._finish(_Done(key, FAILED, None, "interrupted"))

    # --- worker threads: run a step's processes ---------------------------------------------

    def _work(self, key: tuple[str, str], step: Step) -> None:
        try:
            done = self._step(key, step)
        except Interrupted:
            done = _Done(key, FAILED, message="interrupted")
        except Exception as exc:  # a step's failure must never hang the pipeline
            from dbfleet.errors import DbfleetError

            message = str(exc) if isinstance(exc, DbfleetError) else f"{type(exc).__name__}: {exc}"
            self.events.put(_Line(key, f"error: {message}"))
            done = _Done(key, FAILED, message=f"failed: {message}")
        self.events.put(done)

    def _step(self, key: tuple[str, str], step: Step) -> _Done:
        if step.kind == "approve":
            from dbfleet.plan.plan import make_plan

            environment = self.project.environment(step.environment)
            self.events.put(_Line(key, f"planning {environment.name} to check its approvals"))
            # Only the plan's hash and migrations matter here: no drift check, no lint.
            made = make_plan(self.project, environment, check_drift=False, lint=False)
            return _Done(key, OK, plan=made)
        if step.kind == "run":
            assert step.run is not None
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            for name, value in step.env:
                where = f"{self.project.source}: {step.where}.env.{name}"
                env[name] = self.project.resolve(value, where)
            code, timed_out = self._process(
                key, step.run, cwd=step.cwd or self.project.root, env=env, timeout=step.timeout
            )
            if timed_out:
                return _Done(key, FAILED, code, f"timed out after {step.timeout_text}")
            return _Done(key, OK if code == 0 else FAILED, code)
        for argv, tee in self._commands(step):
            code, _ = self._process(key, argv, cwd=self.project.root, tee=tee)
            if code != 0:
                return _Done(key, FAILED, code)
        return _Done(key, OK, 0)

    def _commands(self, step: Step) -> list[tuple[list[str], Path | None]]:
        """The dbfleet command lines a built-in step runs, each with where its stdout is kept."""
        env = step.environment or ""
        if step.kind in ("lint", "test"):
            return [([step.kind], None)]
        if step.kind == "drift":
            return [(["drift", "--env", env], None)]
        if step.kind == "fleet-status":
            return [(["fleet", "status", "--env", env], None)]
        if step.kind == "maintain":
            return [(["maintain", "partitions", "--env", env], None)]
        plan_file = self._plan_file(step)
        plan = (
            ["plan", "--env", env, "-o", str(plan_file), "-f", "md"],
            plan_file.with_suffix(".md"),
        )
        if step.kind == "plan":
            return [plan]
        planned = str(self.plans.get(env, plan_file))
        if self.project.environments[env].get("fleet") is not None:
            # A fleet's plan is its template's: rolled out to the template and every tenant.
            applied = (["fleet", "migrate", "--env", env, "--plan", planned], None)
        else:
            applied = (["apply", "--plan", planned], None)
        return [applied] if env in self.plans else [plan, applied]

    def _plan_file(self, step: Step) -> Path:
        return self.run_dir / f"plan-{step.environment}.json"

    def _process(
        self,
        key: tuple[str, str],
        command: str | list[str],
        *,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        tee: Path | None = None,
    ) -> tuple[int | None, bool]:
        """Run a shell command or a dbfleet command line; its exit code and whether it timed
        out. Its output goes to the queue line by line."""
        if isinstance(command, list):
            argv = [sys.executable, "-m", "dbfleet", "-C", str(self.project.root)]
            if self.project.config_file is not None:
                argv += ["--config", str(self.project.config_file)]
            command = argv + command
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **_this_dbfleet()}
        with self.lock:
            if self.cancelled.is_set():
                raise Interrupted
            process = subprocess.Popen(
                command,
                shell=isinstance(command, str),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: killed as a whole
            )
            self.processes.add(process)
        assert process.stdout is not None and process.stderr is not None
        readers = [
            threading.Thread(target=self._read, args=(key, process.stdout, tee), daemon=True),
            threading.Thread(target=self._read, args=(key, process.stderr, None), daemon=True),
        ]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(process)
        for reader in readers:
            reader.join(KILL_GRACE_SECONDS)
        with self.lock:
            self.processes.discard(process)
        code = process.returncode
        return (128 - code if code < 0 else code), timed_out  # killed by signal N: 128 + N

    def _read(self, key: tuple[str, str], stream: IO[bytes], tee: Path | None) -> None:
        # A stream kept in a file (a plan's Markdown) goes there, not to the log: it would drown
        # the other steps' lines; the log says where it is.
        copy = open(tee, "w", encoding="utf-8") if tee is not None else None  # noqa: SIM115
        try:
            for raw in iter(stream.readline, b""):
                text = raw.decode("utf-8", errors="replace")
                if copy is not None:
                    copy.write(text)
                else:
                    self.events.put(_Line(key, text.rstrip("\r\n")))
        finally:
            stream.close()
            if copy is not None:
                copy.close()
                self.events.put(_Line(key, f"the plan for review: {tee}"))

    def _kill_all(self) -> None:
        with self.lock:
            processes = list(self.processes)
        for process in processes:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)


def _this_dbfleet() -> dict[str, str]:
    """PYTHONPATH for a `python -m dbfleet` child that imports this very dbfleet (a source tree
    on a relative PYTHONPATH would otherwise be lost, as steps run in the project's folder)."""
    import dbfleet

    home = Path(dbfleet.__file__).resolve().parents[1]
    if home.name in ("site-packages", "dist-packages"):
        return {}  # installed: the same interpreter finds it
    paths = [str(home), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Stop a process and everything it started: SIGTERM, and SIGKILL if it lingers."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()
    # Its children may outlive a shell that exited at once: the group goes in any case.
    _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Let the record of an interrupted run be written before a second Ctrl-C ends dbfleet."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def _seconds(ms: int) -> str:
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"


__all__ = ["PipelineResult", "StepResult", "run_pipeline"]
