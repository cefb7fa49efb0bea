"""`dbfleet plan` and `dbfleet apply --plan`: see exactly what will run, then run exactly that."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_json, emit_text, info, markdown_cell
from dbfleet.errors import DbfleetError

if TYPE_CHECKING:
    from dbfleet.config import Project
    from dbfleet.plan.plan import Plan


@app.command()
def plan(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="The environment (default from config).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the plan file (JSON) here.")
    ] = None,
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="text, md, html (one self-contained page) or json."),
    ] = "text",
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 2 when migrations are pending."),
    ] = False,
    no_drift: Annotated[
        bool, typer.Option("--no-drift", help="Skip the drift check (one replay less).")
    ] = False,
    no_lint: Annotated[
        bool, typer.Option("--no-lint", help="Skip linting the pending migrations.")
    ] = False,
) -> None:
    """What `migrate` would run on a target, the schema change it makes and what it risks."""
    from dbfleet.config import load_project
    from dbfleet.plan.plan import make_plan

    if format not in ("text", "md", "html", "json"):
        raise DbfleetError(f"--format {format}: not a format", hint="use text, md, html or json")
    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    environment = project.environment(env)
    made = make_plan(project, environment, check_drift=not no_drift, lint=not no_lint)
    _remember(project, made)
    if output is not None:
        import json

        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(made.to_data(), indent=2) + "\n", encoding="utf-8")
        info(f"wrote {output} (plan {made.hash[:12]})")
    if format == "json":
        emit_json(made.to_data())
    elif format == "md":
        emit_text(_markdown(made))
    elif format == "html":
        from dbfleet.report.html import render_plan_html

        emit_text(render_plan_html(made))
    else:
        emit_text(_text(made))
    if detailed_exitcode and made.migrations:
        raise typer.Exit(2)


def _remember(project: Project, made: Plan) -> None:
    """Record the plan in the state store, so that `dbfleet approve HASH` knows it; a store
    that cannot be written is a warning (the plan itself is still right)."""
    if not made.migrations:
        return  # nothing to approve
    from dbfleet.state.store import open_store

    try:
        with open_store(project) as store:
            store.record_plan(
                made.hash, made.environment, made.target, made.migrations, planned=True
            )
    except DbfleetError as exc:
        info(f"warning: the plan was not recorded in the state store: {exc}")


def _text(made: Plan) -> str:
    from dbfleet.diff.script import describe, summary_line

    head = made.fingerprint.head or "nothing applied"
    lines = [f"plan {made.hash[:12]} for {made.environment} ({made.target}), now at {head}"]
    if not made.migrations:
        lines.append("nothing to do: no migration is pending")
    else:
        lines.append(f"{len(made.migrations)} migration(s) to run:")
        lines += [f"  {script}" for script, _ in made.migrations]
        lines.append(f"schema change: {summary_line(made.changes)}")
        for change, hazard in made.changes.hazards():
            lines.append(
                f"  hazard {hazard.code} ({hazard.severity}): {describe(change)}: {hazard.message}"
            )
    if made.lint:
        lines.append(f"lint: {len(made.lint)} finding(s) in the pending migrations:")
        lines += [
            f"  {f['file']}:{f['line']}:{f['column']} {f['severity']} {f['code']} {f['message']}"
            for f in made.lint
        ]
    if made.drift:
        lines.append(f"drift: {len(made.drift)} difference(s) from the applied migrations:")
        lines += [f"  {d['kind']} {d['object']}: {d['what']}" for d in made.drift]
    if made.migrations:
        lines += ["", made.sql.rstrip()]
    return "\n".join(lines)


def _markdown(made: Plan) -> str:
    from dbfleet.diff.script import render_markdown

    head = made.fingerprint.head or "nothing applied"
    out = [
        f"## dbfleet plan for `{made.environment}`",
        "",
        f"Plan `{made.hash[:12]}` · target at `{head}` · "
        f"{len(made.migrations)} migration(s) pending",
        "",
    ]
    if made.drift:
        out += ["**Drift**: the target differs from its applied migrations:", ""]
        out += [f"- {d['kind']} `{d['object']}`: {d['what']}" for d in made.drift]
        out.append("")
    if made.lint:
        out += [
            f"**Lint**: {len(made.lint)} finding(s) in the pending migrations:",
            "",
            "| Severity | Rule | Where | Finding |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {f['severity']} | `{f['code']}` {f['rule']} | `{f['file']}:{f['line']}` | "
            f"{markdown_cell(f['message'])} |"
            for f in made.lint
        ]
        out.append("")
    if made.migrations:
        out += [f"- `{script}`" for script, _ in made.migrations]
        out += ["", render_markdown(made.changes, "Schema change").rstrip(), ""]
        out += ["<details><summary>What will run</summary>", "", "```sql", made.sql.rstrip()]
        out += ["```", "", "</details>"]
    else:
        out.append("Nothing to do.")
    return "\n".join(out) + "\n"


@app.command()
def apply(
    ctx: typer.Context,
    plan_file: Annotated[
        Path, typer.Option("--plan", help="The plan file `dbfleet plan -o` wrote.")
    ],
) -> None:
    """Run exactly what a plan says, if the target and the files are still as planned."""
    from dbfleet.config import load_project
    from dbfleet.migrate.commands import migrate
    from dbfleet.plan.approvals import judge
    from dbfleet.plan.plan import read_plan
    from dbfleet.state.store import open_store

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    planned = read_plan(project, plan_file)
    environment, expected, plan_hash = planned.environment, planned.migrations, planned.hash
    if environment.fleet is not None:
        raise DbfleetError(
            f"{environment.name} is a fleet: apply its plan to the template and every tenant",
            hint=f"dbfleet fleet migrate --env {environment.name} --plan {plan_file}",
        )
    if not expected:
        info(f"plan {plan_hash[:12]}: nothing to do")
        return
    started = time.perf_counter()
    with open_store(project) as store:
        store.record_plan(plan_hash, environment.name, environment.url.display, expected)
        verdict = judge(project, environment, plan_hash, expected, store)
        verdict.raise_unless_ok()
        for warning in verdict.warnings:
            info(f"warning: {warning}")
        run_id = store.start_run(
            "apply",
            environment=environment.name,
            target=environment.url.display,
            plan_hash=plan_hash,
        )
        try:
            result = migrate(project, environment, expected=expected)
        except DbfleetError as exc:
            store.finish_run(
                run_id,
                "failed",
                duration_ms=int((time.perf_counter() - started) * 1000),
                error=str(exc),
            )
            raise
        store.finish_run(
            run_id,
            "ok",
            duration_ms=int((time.perf_counter() - started) * 1000),
            migrations=result.units,
        )
    info(f"applied plan {plan_hash[:12]} to {environment.name}: {len(result.applied)} migration(s)")
