"""`dbfleet approve` and `dbfleet approvals`: approvals bound to the exact hash of a plan."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_json, info
from dbfleet.errors import DbfleetError

if TYPE_CHECKING:
    from dbfleet.config import Project
    from dbfleet.state.store import Approval, PlanRecord, StateStore

PlanOption = Annotated[
    str,
    typer.Option("--plan", help="The plan file `dbfleet plan -o` wrote, or its hash (12+ chars)."),
]


@app.command()
def approve(
    ctx: typer.Context,
    plan: PlanOption,
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="The environment (default: the plan's).")
    ] = None,
    comment: Annotated[str, typer.Option("--comment", "-m", help="Why, for the record.")] = "",
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Withdraw your approval of this plan.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Approve one exact plan for an environment (as DBFLEET_ACTOR, the CI actor or git user)."""
    from dbfleet.config import load_project
    from dbfleet.plan.approvals import AuthorsUnknown, identities, is_author, judge, plan_authors
    from dbfleet.state.store import actor, open_store

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    me = actor()
    with open_store(project) as store:
        record = _find_plan(project, store, plan)
        if env is not None and env != record.environment:
            raise DbfleetError(
                f"plan {record.hash[:12]} was made for {record.environment}, not {env}",
                hint=f"approve it with --env {record.environment}, or plan {env}",
            )
        environment = project.environment(record.environment)
        migrations = [(s, c) for s, c in _migrations(record)]
        if revoke:
            mine = identities(me)
            count = store.revoke(
                record.hash, environment.name, lambda who: bool(identities(who) & mine)
            )
            if json:
                emit_json({"plan": record.hash, "environment": environment.name, "revoked": count})
            elif count:
                info(f"revoked {me}'s approval of plan {record.hash[:12]} for {environment.name}")
            else:
                info(f"{me} had not approved plan {record.hash[:12]} for {environment.name}")
            return
        try:
            authors = (
                plan_authors(project, record.hash, migrations, store)
                if environment.approver_not_author
                else set()
            )
        except AuthorsUnknown as exc:
            raise DbfleetError(
                f"{me} cannot approve plan {record.hash[:12]} here: {environment.name} has "
                f"approver_not_author = true and {exc}",
                hint="approve where the migrations' git history is (a full clone)",
            ) from None
        if is_author(me, authors):
            raise DbfleetError(
                f"{me} cannot approve plan {record.hash[:12]}: they made it or wrote one of its "
                f"migrations, and {environment.name} has approver_not_author = true",
                hint="ask a reviewer who is not an author to approve it",
            )
        mine = identities(me)
        standing = [
            a
            for a in store.approvals(record.hash, environment=environment.name)
            if identities(a.approver) & mine and a.revoked_at is None and a.genuine
        ]
        approval = standing[0] if standing else None
        if approval is None:
            approval = store.approve(record.hash, environment.name, approver=me, comment=comment)
        verdict = judge(project, environment, record.hash, migrations, store)
    if json:
        emit_json(
            {
                "plan": record.hash,
                "environment": environment.name,
                "approver": approval.approver,
                "approved_at": approval.approved_at,
                "new": not standing,
                "approvals": len(verdict.counted),
                "needed": verdict.needed,
            }
        )
        return
    said = "already approved" if standing else "approved"
    tally = f" ({len(verdict.counted)} of {verdict.needed} needed)" if verdict.needed else ""
    info(f"{me} {said} plan {record.hash[:12]} for {environment.name}{tally}")


@app.command()
def approvals(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Only this plan (file or hash).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many to show.")] = 50,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List approvals, newest first, with whether each still counts."""
    from dbfleet.config import load_project
    from dbfleet.state.store import STATE_FILE, open_store

    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    found: list[Approval] = []
    if project.state_url is not None or (project.root / STATE_FILE).exists():
        with open_store(project) as store:
            plan_hash = _find_plan(project, store, plan).hash if plan else None
            found = store.approvals(plan_hash, environment=env, limit=limit)
            if plan_hash is not None:
                found.reverse()  # newest first, as without --plan
    if json:
        emit_json({"approvals": [{**vars(a), "state": _state(a)} for a in found]})
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from dbfleet.cli.output import console

    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Approved", "Environment", "Plan", "Approver", "State", "Comment"):
        table.add_column(column, no_wrap=column != "Comment")
    for a in found:
        state = _state(a)
        style = {"valid": "green", "revoked": "yellow"}.get(state, "red")
        table.add_row(
            a.approved_at[:19].replace("T", " "),
            escape(a.environment),
            a.plan_hash[:12],
            escape(a.approver),
            f"[{style}]{state}[/]",
            escape(a.comment or ""),
        )
    console().print(table if found else "no approvals recorded")


def _state(approval: Approval) -> str:
    if not approval.genuine:
        return "forged"
    return "revoked" if approval.revoked_at else "valid"


def _find_plan(project: Project, store: StateStore, given: str) -> PlanRecord:
    """The plan a user named: a plan file (recorded in the store if new) or a (short) hash."""
    from dbfleet.plan.plan import load_plan

    path = Path(given)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DbfleetError(f"--plan {given}: cannot be read ({exc})") from None
        data = load_plan(text, given)
        if data["project"] != project.name:
            raise DbfleetError(
                f"--plan {given} is a plan of project {data['project']!r}, not of {project.name!r}",
                hint="approve it in that project's folder",
            )
        return store.record_plan(
            str(data["hash"]),
            str(data["environment"]),
            str(data.get("target") or ""),
            [(m["script"], m["checksum"]) for m in data["migrations"]],
        )
    if any(c in given for c in "/\\.") and not path.exists():
        raise DbfleetError(f"--plan {given}: no such file", hint="give the plan file or its hash")
    digits = given.strip().lower()
    if not 12 <= len(digits) <= 64 or any(c not in "0123456789abcdef" for c in digits):
        raise DbfleetError(
            f"--plan {given}: give the plan file or at least 12 hex digits of its hash",
            hint="`dbfleet plan` prints the hash",
        )
    matches = store.plans_like(given)
    if not matches:
        raise DbfleetError(
            f"--plan {given}: no plan with that hash was made with this state store",
            hint="run `dbfleet plan --env ENV` (or pass the plan file) and approve its hash",
        )
    if len(matches) > 1:
        raise DbfleetError(f"--plan {given}: several plans start with it", hint="give more of it")
    return matches[0]


def _migrations(record: PlanRecord) -> list[tuple[str, str]]:
    import json

    return [(str(s), str(c)) for s, c in json.loads(record.migrations)]
