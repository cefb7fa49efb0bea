"""Release policy: approvals bound to a plan's hash, and promotion through an earlier environment.

An environment with `requires_approval = true` runs a plan only when `approvals` people have
approved that exact plan hash (rows written by dbfleet, not revoked, and, with
`approver_not_author = true`, none by the plan's author: whoever made the plan or wrote one of
its migrations in git). With `promote_from = "staging"`, every migration of the plan must have
been applied successfully to staging first: recorded in the state store, or found in staging's
own history table.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dbfleet.errors import DbfleetError

if TYPE_CHECKING:
    from dbfleet.config import Environment, Project
    from dbfleet.state.store import Approval, StateStore


@dataclass(frozen=True)
class Verdict:
    """Whether a plan may run on an environment, and why not."""

    plan_hash: str
    environment: str
    needed: int
    counted: tuple[Approval, ...] = ()
    # Approvals that exist but do not count, with the reason.
    refused: tuple[tuple[Approval, str], ...] = ()
    # Migrations of the plan that have not reached the promote_from environment.
    not_promoted: tuple[str, ...] = ()
    promote_from: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def approved(self) -> bool:
        return len(self.counted) >= self.needed

    @property
    def ok(self) -> bool:
        return self.approved and not self.not_promoted

    def problems(self) -> list[str]:
        short = self.plan_hash[:12]
        found: list[str] = []
        if not self.approved:
            have = len(self.counted)
            found.append(
                f"plan {short} for {self.environment} has {have} of the {self.needed} "
                f"approval(s) it needs"
            )
        found += [f"the approval by {a.approver} does not count: {why}" for a, why in self.refused]
        if self.not_promoted:
            found.append(f"not yet applied to {self.promote_from}: {', '.join(self.not_promoted)}")
        return found

    def raise_unless_ok(self) -> None:
        if self.ok:
            return
        hint = []
        if not self.approved:
            hint.append(
                f"a reviewer runs `dbfleet approve --env {self.environment} "
                f"--plan {self.plan_hash[:12]}`"
            )
        if self.not_promoted:
            hint.append(f"apply them to {self.promote_from} first")
        raise DbfleetError("; ".join(self.problems()), hint=", and ".join(hint))


def judge(
    project: Project,
    environment: Environment,
    plan_hash: str,
    migrations: Sequence[tuple[str, str]],
    store: StateStore,
) -> Verdict:
    """The release policy of `environment` applied to the plan `plan_hash`."""
    needed = environment.approvals if environment.requires_approval else 0
    counted: list[Approval] = []
    refused: list[tuple[Approval, str]] = []
    if needed:
        authors = plan_authors(project, plan_hash, migrations, store)
        seen: set[str] = set()
        for approval in store.approvals(plan_hash, environment=environment.name):
            reason = _why_not(approval, environment, authors, seen)
            if reason is None:
                counted.append(approval)
                seen.add(approval.approver.casefold())
            elif reason:  # "" = silently not counted (revoked)
                refused.append((approval, reason))
    not_promoted: tuple[str, ...] = ()
    if environment.promote_from:
        not_promoted = tuple(_not_promoted(project, environment.promote_from, migrations, store))
    return Verdict(
        plan_hash,
        environment.name,
        needed,
        tuple(counted),
        tuple(refused),
        not_promoted,
        environment.promote_from,
    )


def _why_not(
    approval: Approval, environment: Environment, authors: set[str], seen: set[str]
) -> str | None:
    if approval.revoked_at is not None:
        return ""
    if not approval.genuine:
        return "its row does not match its digest (written or edited outside dbfleet)"
    if approval.approver.casefold() in seen:
        return "the same person approved it already"
    if environment.approver_not_author and is_author(approval.approver, authors):
        return "the approver is an author of the plan (approver_not_author = true)"
    return None


def plan_authors(
    project: Project, plan_hash: str, migrations: Sequence[tuple[str, str]], store: StateStore
) -> set[str]:
    """Who made the plan (as the state store recorded it) and who wrote its migrations (git)."""
    authors: set[str] = set()
    record = store.plan(plan_hash)
    if record is not None:
        authors.add(record.planned_by)
    authors |= git_authors(project, [script for script, _ in migrations])
    return authors


def git_authors(project: Project, scripts: Iterable[str]) -> set[str]:
    """'Name <email>' of everyone who committed to these migration files; empty without git."""
    paths = [
        str(path)
        for script in scripts
        for folder in project.locations
        if (path := folder / script).exists()
    ]
    if not paths:
        return set()
    try:
        done = subprocess.run(
            ["git", "log", "--format=%an <%ae>", "--", *paths],
            cwd=Path(paths[0]).parent,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    if done.returncode != 0:
        return set()
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def is_author(approver: str, authors: set[str]) -> bool:
    """Does `approver` (a login, an email or 'Name <email>') name one of `authors`?"""
    mine = _identities(approver)
    return any(mine & _identities(author) for author in authors)


def _identities(who: str) -> set[str]:
    """The names a person goes by in `who`: the whole, the name, the email and its local part
    (GitHub's actor is a login; git's author is 'Name <email>')."""
    text = who.strip().casefold()
    found = {text}
    name, _, rest = text.partition("<")
    if rest:
        found.add(name.strip())
        text = rest.rstrip(">").strip()
        found.add(text)
    if "@" in text:
        found.add(text.split("@", 1)[0])
    return {f for f in found if f}


def _not_promoted(
    project: Project, source: str, migrations: Sequence[tuple[str, str]], store: StateStore
) -> list[str]:
    """The plan's migrations that did not run successfully on `source`: not in the state store's
    record of runs there, and not in `source`'s own history table (when it can be reached)."""
    recorded = store.applied_in(source, migrations)
    missing = [(s, c) for s, c in migrations if s not in recorded]
    if not missing:
        return []
    from dbfleet.migrate.commands import status

    try:
        state = status(project, project.environment(source))
    except DbfleetError:
        return [s for s, _ in missing]  # cannot look: only the store's record counts
    there = {
        (e.row.script, e.row.checksum) for e in state.entries if e.row is not None and e.row.success
    }
    return [s for s, c in missing if (s, c) not in there]
