"""`dbfleet pipeline run` and `dbfleet pipeline status`: the [pipeline] of dbfleet.toml."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_json, markdown_cell
from dbfleet.secrets import redact

if TYPE_CHECKING:
    from dbfleet.pipeline.runner import PipelineResult
    from dbfleet.state.store import PipelineRun, PipelineStep

pipeline_app = typer.Typer(
    name="pipeline",
    help="Run the stages of dbfleet.toml's pipeline: lint, test, plan, apply, approval gates.",
    no_args_is_help=True,
)
app.add_typer(pipeline_app, name="pipeline")


@pipeline_app.command("run")
def run(
    ctx: typer.Context,
    from_stage: Annotated[
        str | None, typer.Option("--from", help="Start at this stage (e.g. after an approval).")
    ] = None,
    to_stage: Annotated[str | None, typer.Option("--to", help="Stop after this stage.")] = None,
) -> None:
    """Run the stages in order, the steps of a stage in parallel; stop at the first failed
    stage (exit 1) or at an approval gate still waiting for its approval (exit 0)."""
    from dbfleet.config import load_project
    from dbfleet.pipeline.definition import load_pipeline
    from dbfleet.pipeline.runner import run_pipeline
    from dbfleet.state.store import open_store

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    stages = load_pipeline(project).select(from_stage, to_stage)
    with _sigterm_interrupts(), open_store(project) as store:
        result = run_pipeline(
            project, stages, store, from_stage=from_stage, to_stage=to_stage, emit=_say
        )
    _conclude(result)
    raise typer.Exit(result.exit_code)


def _say(line: str) -> None:
    sys.stdout.write(redact(line) + "\n")
    sys.stdout.flush()  # live, also when piped into a CI log


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a cancelled CI job) stops the pipeline as Ctrl-C does."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    saved = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved)


def _conclude(result: PipelineResult) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from dbfleet.cli.output import console

    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Stage", "Step", "Status", "Duration", "Exit"):
        table.add_column(column, no_wrap=True, justify="right" if column == "Exit" else "left")
    for step in result.steps:
        table.add_row(
            escape(step.stage),
            escape(step.step),
            _styled(step.status),
            _duration(step.duration_ms),
            "" if step.exit_code is None else str(step.exit_code),
        )
    out = console()
    out.print(table)
    counts: dict[str, int] = {}
    for step in result.steps:
        counts[step.status] = counts.get(step.status, 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in counts.items())
    where = "passed" if result.status == "ok" else f"{result.status} at stage {result.stopped_at}"
    said = f": {result.message}" if result.message and result.status != "interrupted" else ""
    out.print(
        escape(
            f"pipeline {result.run_id[:12]} {where}{said} "
            f"({tally}; {_duration(result.duration_ms)})"
        ),
        style=_STYLES.get(result.status),
    )
    if result.next_steps:
        out.print(f"  a reviewer approves it:  {escape(result.next_steps[0])}")
        for line in result.next_steps[1:]:
            out.print(f"  then continue with:      {escape(line)}")


@pipeline_app.command("status")
def status(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", help="How many runs to list.")] = 10,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Show the steps of this run (id or its start).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="text, json, or md (one run's steps, for a CI job summary)."
        ),
    ] = "text",
) -> None:
    """The last pipeline runs (who, status, where each stopped) and the steps of the latest."""
    from dbfleet.config import load_project
    from dbfleet.errors import DbfleetError
    from dbfleet.state.store import STATE_FILE, open_store

    if format not in ("text", "json", "md"):
        raise DbfleetError(f"--format {format}: not a format", hint="use text, json or md")
    json = json or format == "json"

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    runs: list[PipelineRun] = []
    chosen: PipelineRun | None = None
    steps: list[PipelineStep] = []
    if project.state_url is not None or (project.root / STATE_FILE).exists():
        with open_store(project) as store:
            runs = store.pipeline_runs(limit=max(limit, 1))
            if run_id is not None:
                found = [r for r in store.pipeline_runs(limit=10_000) if r.id.startswith(run_id)]
                if len(found) != 1:
                    raise DbfleetError(
                        f"--run {run_id}: "
                        + ("no pipeline run has that id" if not found else "several runs match"),
                        hint="`dbfleet pipeline status` lists the runs",
                    )
                chosen = found[0]
            elif runs:
                chosen = runs[0]
            if chosen is not None:
                steps = store.pipeline_steps(chosen.id)
    elif run_id is not None:
        raise DbfleetError(f"--run {run_id}: no pipeline run has that id")
    if json:
        emit_json(
            {
                "runs": [vars(r) for r in runs],
                "run": chosen.id if chosen else None,
                "steps": [vars(s) for s in steps],
            }
        )
        return
    if format == "md":
        from dbfleet.cli.output import emit_text

        emit_text(_markdown(chosen, steps))
        return
    _show_status(runs, chosen, steps)


def _markdown(chosen: PipelineRun | None, steps: list[PipelineStep]) -> str:
    """One run as a CI job summary: where it stopped and why, then its steps."""
    if chosen is None:
        return "No pipeline runs recorded.\n"

    out = [
        f"## Pipeline run `{chosen.id[:12]}`: {chosen.status}",
        "",
        f"Started {_when(chosen.started_at)} UTC by {markdown_cell(chosen.actor)}"
        + (f" · stopped at `{chosen.stopped_at}`" if chosen.stopped_at else ""),
    ]
    if chosen.message:
        out += ["", f"> {markdown_cell(chosen.message)}"]
    out += [
        "",
        "| Stage | Step | Status | Duration | Exit | Last line |",
        "|---|---|---|---|---|---|",
    ]
    for s in steps:
        last = (s.log_tail or "").strip().splitlines()
        cells = [
            markdown_cell(s.stage),
            f"`{markdown_cell(s.step)}`",
            s.status,
            _duration(s.duration_ms),
            "" if s.exit_code is None else str(s.exit_code),
            markdown_cell(last[-1]) if last else "",
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _show_status(
    runs: list[PipelineRun], chosen: PipelineRun | None, steps: list[PipelineStep]
) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from dbfleet.cli.output import console

    out = console()
    if not runs and chosen is None:
        out.print("no pipeline runs recorded (run `dbfleet pipeline run`)")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Started", "Run", "Actor", "Status", "Stopped at", "Message"):
        table.add_column(column, no_wrap=column != "Message")
    for r in runs:
        table.add_row(
            _when(r.started_at),
            r.id[:12],
            escape(r.actor),
            _styled(r.status),
            escape(r.stopped_at or ""),
            escape(r.message or ""),
        )
    out.print(table)
    if chosen is None:
        return
    started = _when(chosen.started_at)
    out.print(f"steps of run {chosen.id[:12]} ({chosen.status}, started {started}):")
    detail = Table(box=box.SIMPLE_HEAD)
    for column in ("Stage", "Step", "Status", "Started", "Duration", "Exit", "Last line"):
        detail.add_column(column, no_wrap=column != "Last line")
    for s in steps:
        last = (s.log_tail or "").strip().splitlines()
        detail.add_row(
            escape(s.stage),
            escape(s.step),
            _styled(s.status),
            _when(s.started_at)[11:] if s.started_at else "",
            _duration(s.duration_ms),
            "" if s.exit_code is None else str(s.exit_code),
            escape(last[-1] if last else ""),
        )
    out.print(detail)


_STYLES = {"ok": "green", "failed": "red", "waiting": "yellow", "interrupted": "red"}


def _styled(status: str) -> str:
    style = _STYLES.get(status)
    return f"[{style}]{status}[/]" if style else status


def _when(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


def _duration(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds = ms / 1000
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
