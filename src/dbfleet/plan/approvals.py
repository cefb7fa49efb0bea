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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbfleet.errors import DbfleetError
from dbfleet.state.store import approval_key_set

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
    # Why the plan's authors cannot be known (approver_not_author cannot be checked), if so.
    authors_unknown: str | None = None

    @property
    def approved(self) -> bool:
        return len(self.counted) >= self.needed and self.authors_unknown is None

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
        if self.authors_unknown:
            found.append(f"approver_not_author cannot be checked: {self.authors_unknown}")
        found += [f"the approval by {a.approver} does not count: {why}" for a, why in self.refused]
        if self.not_promoted:
            found.append(f"not yet applied to {self.promote_from}: {', '.join(self.not_promoted)}")
        return found

    @property
    def warnings(self) -> list[str]:
        """What weakens the approvals even when they pass."""
        if self.needed and not approval_key_set():
            return [
                "DBFLEET_APPROVAL_KEY is not set: approvals are signed with dbfleet's public "
                "default key, so anyone who can write to the state store can forge one (set "
                "it as a secret where approvals are made and checked)"
            ]
        return []

    def raise_unless_ok(self) -> None:
        if self.ok:
            return
        hint = []
        if self.authors_unknown:
            hint.append("run it where the migrations' git history is (a full clone)")
        elif not self.approved:
            hint.append(
                f"a reviewer runs `dbfleet approve --env {self.environment} "
                f"--plan {self.plan_hash[:12]}`"
            )
        if self.not_promoted:
            hint.append(f"apply them to {self.promote_from} first")
        raise DbfleetError("; ".join(self.problems()), hint=", and ".join(hint))


def require_reason(environment: Environment, reason: str | None) -> None:
    """An undo where plans need approval is a change no plan covers: it must say why."""
    if environment.requires_approval and not (reason or "").strip():
        raise DbfleetError(
            f"undo on {environment.name}, which runs approved plans only "
            "(requires_approval = true), needs --reason",
            hint='e.g. --reason "INC-123: V42 locks invoices"; it is recorded with the run '
            "(dbfleet history)",
        )


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
    unknown: str | None = None
    if needed:
        authors: set[str] = set()
        if environment.approver_not_author:
            try:
                authors = plan_authors(project, plan_hash, migrations, store)
            except AuthorsUnknown as exc:
                unknown = str(exc)
        seen: set[str] = set()
        for approval in store.approvals(plan_hash, environment=environment.name):
            reason = _why_not(approval, environment, authors, seen)
            if reason is None:
                counted.append(approval)
                seen |= identities(approval.approver)  # one person, however they spell it
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
        unknown,
    )


def _why_not(
    approval: Approval, environment: Environment, authors: set[str], seen: set[str]
) -> str | None:
    if approval.revoked_at is not None:
        return ""
    if not approval.genuine:
        key = "" if approval_key_set() else "; DBFLEET_APPROVAL_KEY is not set here"
        return (
            "its row does not match its digest (written or edited outside dbfleet, or signed "
            f"with another DBFLEET_APPROVAL_KEY{key})"
        )
    if identities(approval.approver) & seen:
        return "the same person approved it already"
    if environment.approver_not_author and is_author(approval.approver, authors):
        return "the approver is an author of the plan (approver_not_author = true)"
    return None


def plan_authors(
    project: Project, plan_hash: str, migrations: Sequence[tuple[str, str]], store: StateStore
) -> set[str]:
    """Who made the plan (as the state store recorded it) and who wrote or committed its
    migrations (git). Raises AuthorsUnknown when git cannot say (not a repository, no git, a
    shallow clone): approver_not_author then fails closed."""
    authors: set[str] = set()
    record = store.plan(plan_hash)
    if record is not None and record.planned_by:
        authors.add(record.planned_by)
    authors |= git_authors(project, [script for script, _ in migrations])
    return authors


class AuthorsUnknown(Exception):
    """git cannot tell who wrote the migrations; the text says why."""


def git_authors(project: Project, scripts: Iterable[str]) -> set[str]:
    """'Name <email>' of everyone who authored or committed these migration files (files not
    committed yet have none: their author is whoever plans them)."""
    paths = [
        str(path)
        for script in scripts
        for folder in project.locations
        if (path := folder / script).exists()
    ]
    if not paths:
        return set()
    where = Path(paths[0]).parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=where, capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise AuthorsUnknown(f"git cannot be run ({exc})") from None
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise AuthorsUnknown(f"git says: {lines[-1] if lines else 'an error'}")
        return done.stdout

    if git("rev-parse", "--is-shallow-repository").strip() == "true":
        raise AuthorsUnknown(
            "this is a shallow clone, whose history may not reach the migrations' commits "
            "(fetch the whole history, e.g. actions/checkout with fetch-depth: 0)"
        )
    out = git("log", "--format=%an <%ae>%n%cn <%ce>", "--", *paths)
    return {line.strip() for line in out.splitlines() if line.strip()}


def is_author(approver: str, authors: set[str]) -> bool:
    """Does `approver` (a login, an email or 'Name <email>') name one of `authors`?"""
    mine = identities(approver)
    return any(mine & identities(author) for author in authors)


def identities(who: str) -> set[str]:
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
        local, _, domain = text.partition("@")
        found.add(local)
        if domain == "users.noreply.github.com":  # 123+carol@users.noreply.github.com
            found.add(local.rpartition("+")[2])
    return {f for f in found if f}


def _not_promoted(
    project: Project, source: str, migrations: Sequence[tuple[str, str]], store: StateStore
) -> list[str]:
    """The plan's migrations that did not run successfully on `source`: not in the state store's
    record of runs on `source`'s own database, and not in its history table. The database is
    the one dbfleet.toml names (whatever --url/DBFLEET_URL this process got); when its URL
    cannot be resolved here (a variable only staging's jobs have), nothing counts."""
    from dbfleet.migrate.commands import status

    try:
        environment = project.environment(source, overrides=False)
    except DbfleetError:
        return [s for s, _ in migrations]
    recorded = store.applied_in(source, environment.url.display, migrations)
    missing = [(s, c) for s, c in migrations if s not in recorded]
    if not missing:
        return []
    try:
        state = status(project, environment)
    except DbfleetError:
        return [s for s, _ in missing]  # cannot look: only the store's record counts
    there = {
        (e.row.script, e.row.checksum) for e in state.entries if e.row is not None and e.row.success
    }
    return [s for s, c in missing if (s, c) not in there]
