"""`check --base REF`: what a branch does to the migrations already merged into REF, from git."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dbfleet.config import Project
from dbfleet.errors import DbfleetError, MigrationFileError
from dbfleet.migrate.files import (
    CALLBACK,
    REPEATABLE,
    VERSIONED,
    Kind,
    Version,
    checksum,
    sql_files,
)

# Problem kinds, in the order a report lists them for one file.
EDITED, DELETED, RENAMED, COLLISION, OUT_OF_ORDER = (
    "edited",
    "deleted",
    "renamed",
    "collision",
    "out_of_order",
)


@dataclass(frozen=True)
class Problem:
    """One thing the branch does that environments at the base cannot take as it is."""

    kind: str
    file: str  # relative to the repository's top folder, with /
    version: str | None
    message: str  # what is wrong and what to do, without the file name

    def to_data(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "file": self.file,
            "version": self.version,
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True)
class CheckReport:
    """The outcome of comparing the working tree's migrations with those of a base ref."""

    base: str  # the ref as given, e.g. origin/main
    base_commit: str
    merge_base: str
    compared: int  # migration files the base holds
    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...]  # worth a reviewer's eye, not a failure

    def to_data(self) -> dict[str, object]:
        return {
            "base": self.base,
            "base_commit": self.base_commit,
            "merge_base": self.merge_base,
            "problems": [p.to_data() for p in self.problems],
            "notes": [n.to_data() for n in self.notes],
        }


@dataclass(frozen=True)
class _Script:
    """A V, U or R file on one side of the comparison."""

    path: str  # relative to the repository's top folder
    kind: Kind
    version: Version | None
    checksum: str  # dbfleet's: line endings normalised, a UTF-8 BOM ignored


def check_against(project: Project, base: str) -> CheckReport:
    """Compare the migrations in the working tree with those on `base` (a branch, tag, commit).

    The working tree is what `dbfleet migrate` would run: the files on disk, committed or not
    (on CI, a clean checkout of the pull request's head). The project's dbfleet.toml of the
    working tree says where migrations live, on both sides. No database is involved.
    """
    if base.startswith("-"):
        raise DbfleetError(f"--base {base}: not a branch, tag or commit", hint="e.g. origin/main")
    git = _Git.find(project.root)
    git.require_head()
    base_commit = git.commit(base)
    merge_base = git.merge_base(base, base_commit)
    folders = git.folders(project.locations)

    on_base_entries = git.tree(base_commit, folders)
    at_fork_entries = git.tree(merge_base, folders)
    blobs = git.blobs({sha for _, sha in on_base_entries + at_fork_entries})
    here_files = _working_tree(git.top, project.locations)

    bad: list[str] = []
    on_base = _scripts(((p, blobs[sha]) for p, sha in on_base_entries), folders, bad, base)
    at_fork = _scripts(((p, blobs[sha]) for p, sha in at_fork_entries), folders, bad, None)
    here = _scripts(here_files.items(), folders, bad, None)
    if bad:
        raise MigrationFileError(
            "not a migration name: " + ", ".join(sorted(dict.fromkeys(bad))),
            hint="expected V<version>__<description>.sql, U<version>__<description>.sql, "
            "R__<description>.sql or a callback such as beforeMigrate.sql",
        )
    gone = [
        p
        for p, s in on_base.items()
        if s.kind is not Kind.REPEATABLE and p in at_fork and p not in here
    ]
    renames = _renames(git, merge_base, folders, gone, at_fork, here) if gone else {}
    problems, notes = _compare(
        base, on_base, at_fork, here, renames, out_of_order=project.out_of_order
    )
    order = {EDITED: 0, DELETED: 1, RENAMED: 2, COLLISION: 3, OUT_OF_ORDER: 4}
    return CheckReport(
        base=base,
        base_commit=base_commit,
        merge_base=merge_base,
        compared=len(on_base),
        problems=tuple(sorted(problems, key=lambda p: (p.file, order[p.kind]))),
        notes=tuple(sorted(notes, key=lambda p: p.file)),
    )


def _compare(
    base: str,
    on_base: Mapping[str, _Script],
    at_fork: Mapping[str, _Script],
    here: Mapping[str, _Script],
    renames: Mapping[str, str],
    *,
    out_of_order: bool,
) -> tuple[list[Problem], list[Problem]]:
    """The problems (and notes) of a branch whose files are `here`, forked at `at_fork`."""
    problems: list[Problem] = []
    notes: list[Problem] = []
    base_versions = [s for s in on_base.values() if s.kind is Kind.VERSIONED]
    head = max((s.version for s in base_versions if s.version), default=None)

    for path, old in sorted(on_base.items()):
        if old.kind is Kind.REPEATABLE:
            continue  # repeatable migrations are meant to be edited, renamed and dropped
        what = _what(old)
        new = here.get(path)
        fork = at_fork.get(path)
        if fork is None:
            continue  # added on the base since the fork: the branch just does not have it yet
        if new is not None:
            if new.checksum != old.checksum and new.checksum != fork.checksum:
                problems.append(
                    Problem(
                        EDITED,
                        path,
                        _text(old.version),
                        f"{what} edited after it was merged into {base}; environments that "
                        "applied it keep the old script and `dbfleet validate` fails on them: "
                        f"restore it as it is on {base} and put the change in a new migration",
                    )
                )
        elif path in renames:
            problems.append(
                Problem(
                    RENAMED,
                    path,
                    _text(old.version),
                    f"{what} renamed to {renames[path]} after it was merged into {base}; "
                    "environments that applied it recorded the old name and `dbfleet validate` "
                    "fails on them: rename it back",
                )
            )
        else:
            undone = (
                f"; `dbfleet undo` can no longer undo V{old.version}"
                if old.kind is Kind.UNDO
                else "; environments that applied it will report it missing"
            )
            problems.append(
                Problem(
                    DELETED,
                    path,
                    _text(old.version),
                    f"{what} deleted, but it is merged into {base}{undone}: restore it",
                )
            )

    # What the branch adds: files the fork did not have, other than what came from the base
    # (a merge of the base into the branch) and the new names of renamed files.
    renamed_to = set(renames.values())
    added = [
        s
        for p, s in sorted(here.items())
        if s.kind is not Kind.REPEATABLE
        and p not in at_fork
        and p not in renamed_to
        and not (p in on_base and on_base[p].checksum == s.checksum)
    ]
    clashing: set[Version | None] = set()
    for kind in (Kind.VERSIONED, Kind.UNDO):
        same_kind = [s for s in on_base.values() if s.kind is kind]
        for new in (s for s in added if s.kind is kind):
            if new.version in clashing:
                continue  # its versioned migration's clash says it all
            others = [s for s in same_kind if s.version == new.version]
            if not others:
                continue
            other = next((s for s in others if s.path == new.path), others[0])
            clashing.add(new.version)
            since = " since this branch started" if other.path not in at_fork else ""
            if other.path == new.path:
                clash = f"also added on {base}{since}, with other content"
            else:
                clash = f"version {new.version} is also used by {other.path} on {base}"
                clash += f" (added there{since})" if since else ""
            which = "it (and its undo script)" if kind is Kind.VERSIONED else "it"
            above = f"above {head}" if head else "to a free version"
            problems.append(
                Problem(
                    COLLISION,
                    new.path,
                    _text(new.version),
                    f"{clash}: renumber {which} {above}",
                )
            )
    for new in added:
        if new.kind is not Kind.VERSIONED or new.version in clashing:
            continue
        if head is None or new.version is None or not new.version < head:
            continue
        if out_of_order:
            notes.append(
                Problem(
                    OUT_OF_ORDER,
                    new.path,
                    _text(new.version),
                    f"version {new.version} is lower than {base}'s latest version {head}; "
                    f"environments already at {head} will apply it out of order "
                    "([migrations] out_of_order = true)",
                )
            )
        else:
            problems.append(
                Problem(
                    OUT_OF_ORDER,
                    new.path,
                    _text(new.version),
                    f"version {new.version} is lower than {base}'s latest version {head}; "
                    f"environments already at {head} would refuse it as out of order: "
                    f"renumber it above {head}, or allow that with [migrations] "
                    "out_of_order = true",
                )
            )
    return problems, notes


def _what(script: _Script) -> str:
    return "undo script" if script.kind is Kind.UNDO else "migration"


def _text(version: Version | None) -> str | None:
    return str(version) if version is not None else None


def _scripts(
    files: Iterable[tuple[str, bytes]],
    folders: Mapping[str, str],
    bad: list[str],
    ref: str | None,
) -> dict[str, _Script]:
    """V, U and R files among `files` (repo-relative path -> content), by path.

    Callbacks are skipped; a .sql file of no known kind is added to `bad` (as REF:path for a
    ref's file), since dbfleet would refuse it there.
    """
    found: dict[str, _Script] = {}
    for path, data in files:
        name = PurePosixPath(path).name
        if match := VERSIONED.match(name):
            kind, version = Kind(match["kind"]), Version.parse(match["version"])
        elif REPEATABLE.match(name):
            kind, version = Kind.REPEATABLE, None
        elif CALLBACK.match(name):
            continue
        else:
            bad.append(f"{ref}:{path}" if ref else path)
            continue
        found[path] = _Script(path, kind, version, _checksum(data))
    return found


def _checksum(data: bytes) -> str:
    """dbfleet's checksum of a file's bytes (a CRLF-only or BOM-only change is no change)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # not a valid migration anyway; still compare the bytes
    return checksum(text.removeprefix("\ufeff"))


def _working_tree(top: Path, locations: Iterable[Path]) -> dict[str, bytes]:
    """The .sql files of the migration locations on disk, as dbfleet finds them."""
    found = {}
    for location in locations:
        if not location.is_dir():
            continue  # a location the branch removed: its files count as deleted
        location = location.resolve()
        for script in sql_files(location):
            path = location / script
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise MigrationFileError(f"{path}: cannot be read: {exc.strerror}") from None
            found[path.relative_to(top).as_posix()] = data
    return found


def _renames(
    git: _Git,
    merge_base: str,
    folders: Mapping[str, str],
    gone: list[str],
    at_fork: Mapping[str, _Script],
    here: Mapping[str, _Script],
) -> dict[str, str]:
    """Old path -> new path for the files in `gone` that the branch renamed.

    git's rename detection (similar content) sees the renames among tracked files; a rename
    to a file not yet added to git is found by identical content.
    """
    renames = {}
    for old, new in git.renames(merge_base, folders):
        if old in gone and new in here:
            renames[old] = new
    new_files = {
        s.checksum: p
        for p, s in sorted(here.items(), reverse=True)
        if p not in at_fork and p not in renames.values()
    }
    for old in gone:
        if old not in renames and at_fork[old].checksum in new_files:
            renames[old] = new_files.pop(at_fork[old].checksum)
    return renames


class _Git:
    """git, run as `git -C <top> ...`, each failure turned into a message a user can act on."""

    def __init__(self, top: Path) -> None:
        self.top = top

    @classmethod
    def find(cls, start: Path) -> _Git:
        proc = _run(["git", "-C", str(start), "rev-parse", "--show-toplevel"])
        if proc.returncode != 0:
            why = _first_line(proc.stderr)
            if "not a git repository" in why:
                raise DbfleetError(
                    f"check --base: {start} is not in a git repository",
                    hint="run it in a clone of the project's repository",
                )
            raise DbfleetError(f"check --base: git cannot read the repository at {start}: {why}")
        return cls(Path(os.fsdecode(proc.stdout).strip()).resolve())

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        proc = _run(["git", "-C", str(self.top), *args], stdin)
        if proc.returncode != 0:
            raise DbfleetError(f"git {args[0]} failed: {_first_line(proc.stderr)}")
        return proc.stdout

    def ok(self, *args: str) -> str | None:
        """stdout of a git command that may fail (None when it does)."""
        proc = _run(["git", "-C", str(self.top), *args])
        return os.fsdecode(proc.stdout).strip() if proc.returncode == 0 else None

    def require_head(self) -> None:
        if self.ok("rev-parse", "--verify", "--quiet", "HEAD^{commit}") is None:
            raise DbfleetError(
                f"check --base: the repository at {self.top} has no commit yet",
                hint="commit the migrations first",
            )

    def commit(self, ref: str) -> str:
        found = self.ok("rev-parse", "--verify", "--quiet", ref + "^{commit}")
        if not found:
            branch = ref.removeprefix("origin/")
            raise DbfleetError(
                f"--base {ref}: no such branch, tag or commit in this repository",
                hint=f"fetch it first, e.g. `git fetch origin {branch}`, and pass origin/{branch}",
            )
        return found

    def merge_base(self, ref: str, commit: str) -> str:
        found = self.ok("merge-base", commit, "HEAD")
        if found:
            return found
        if self.ok("rev-parse", "--is-shallow-repository") == "true":
            branch = ref.removeprefix("origin/")
            raise DbfleetError(
                f"--base {ref}: this is a shallow clone and the commit this branch started "
                f"from is not in it",
                hint=f"fetch enough history, e.g. `git fetch --unshallow origin {branch}` "
                "(or fetch-depth: 0 in actions/checkout)",
            )
        raise DbfleetError(
            f"--base {ref}: HEAD and {ref} have no common history",
            hint="pass the branch this one was started from",
        )

    def folders(self, locations: Iterable[Path]) -> dict[str, str]:
        """Each migration location's path in the repository ('' for the top folder)."""
        found = {}
        for location in locations:
            try:
                relative = location.resolve().relative_to(self.top)
            except ValueError:
                raise DbfleetError(
                    f"check --base: migration location {location} is outside the git "
                    f"repository at {self.top}",
                    hint="keep the migrations in the repository, or fix [migrations] locations",
                ) from None
            path = relative.as_posix()
            found[path if path != "." else ""] = str(location)
        return found

    def tree(self, commit: str, folders: Mapping[str, str]) -> list[tuple[str, str]]:
        """(path, blob id) of the .sql files below `folders` at `commit`, as dbfleet finds them."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", commit, "--", *_specs(folders))
        found = []
        for entry in os.fsdecode(out).split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            _mode, kind, sha = meta.split()
            if kind == "blob" and _is_script(path, folders):
                found.append((path, sha))
        return found

    def blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The content of each blob, read by one `git cat-file --batch`."""
        wanted = sorted(shas)
        if not wanted:
            return {}
        out = self.run("cat-file", "--batch", stdin=("\n".join(wanted) + "\n").encode())
        found, at = {}, 0
        for sha in wanted:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            size = int(header[2])
            found[sha] = out[end + 1 : end + 1 + size]
            at = end + 1 + size + 1
        return found

    def renames(self, commit: str, folders: Mapping[str, str]) -> list[tuple[str, str]]:
        """(old, new) paths git sees renamed between `commit` and the working tree."""
        out = self.run(
            "diff", "--name-status", "-z", "-M", "--no-ext-diff", commit, "--", *_specs(folders)
        )
        fields = os.fsdecode(out).split("\0")
        found, at = [], 0
        while at < len(fields) and fields[at]:
            status = fields[at]
            if status[:1] in ("R", "C"):
                if status.startswith("R"):
                    found.append((fields[at + 1], fields[at + 2]))
                at += 3
            else:
                at += 2
        return found


def _specs(folders: Mapping[str, str]) -> list[str]:
    return [folder or "." for folder in folders]


def _is_script(path: str, folders: Mapping[str, str]) -> bool:
    """Whether dbfleet's discovery would read `path`: a .sql file, nothing hidden on the way."""
    for folder in folders:
        prefix = f"{folder}/" if folder else ""
        if path.startswith(prefix):
            parts = path[len(prefix) :].split("/")
            return path.lower().endswith(".sql") and not any(p.startswith(".") for p in parts)
    return False


def _run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    # Paths are literal (a location may hold [ or *); optional locks off: this only reads.
    env = os.environ | {"GIT_LITERAL_PATHSPECS": "1", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(args, input=stdin, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise DbfleetError(
            "check --base needs git, which is not installed (or not on PATH)",
            hint="install git, e.g. apt-get install git",
        ) from None


def _first_line(stderr: bytes) -> str:
    lines = os.fsdecode(stderr).strip().splitlines()
    return lines[0].removeprefix("fatal: ") if lines else "(no message)"
