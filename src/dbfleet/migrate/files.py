"""The migration directory: V/U/R files and callbacks, their versions and checksums."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import total_ordering
from pathlib import Path

from dbfleet.errors import MigrationFileError


class Kind(StrEnum):
    VERSIONED = "V"
    UNDO = "U"
    REPEATABLE = "R"


CALLBACK_EVENTS = (
    "beforeMigrate",
    "beforeEachMigrate",
    "afterEachMigrate",
    "afterMigrate",
    "afterMigrateError",
    "beforeUndo",
    "afterUndo",
)
# The file-name grammar (public: `dbfleet lint` classifies files with the same patterns).
VERSIONED = re.compile(
    r"^(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.(?i:sql)$"
)
_VERSION = re.compile(r"\d+(?:[._]\d+)*")
_VERSION_SEPARATOR = re.compile(r"[._]")
REPEATABLE = re.compile(r"^R__(?P<description>.+)\.(?i:sql)$")
CALLBACK = re.compile(
    rf"^(?P<event>{'|'.join(CALLBACK_EVENTS)})(?:__(?P<description>.+))?\.(?i:sql)$"
)


@total_ordering
@dataclass(frozen=True)
class Version:
    """A migration version: numeric parts compared one by one (1.10 > 1.9; 1.0 == 1)."""

    parts: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Version:
        if text.isascii() and text.isdigit():  # the common case, V1 ... V300: no regex
            return cls((int(text),))
        if not _VERSION.fullmatch(text.strip()):
            raise ValueError(f"'{text}' is not a version (use digits separated by . or _)")
        parts = [int(p) for p in _VERSION_SEPARATOR.split(text.strip())]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return cls(tuple(parts))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.parts < other.parts

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


@dataclass(frozen=True)
class MigrationFile:
    """One V, U or R script (or a callback) and what its name and content say."""

    kind: Kind | None
    path: Path
    script: str  # the name as recorded in the history table (relative to its location)
    description: str
    version: Version | None = None
    event: str | None = None  # callbacks only
    text: str = field(default="", repr=False)
    checksum: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind.value if self.kind else ''}{self.version or ''} {self.description}"


@dataclass(frozen=True)
class MigrationSet:
    """Everything the project's migration locations hold, validated and in order."""

    versioned: tuple[MigrationFile, ...]
    undo: dict[Version, MigrationFile]
    repeatable: tuple[MigrationFile, ...]
    callbacks: dict[str, tuple[MigrationFile, ...]]

    def versioned_by(self, version: Version) -> MigrationFile | None:
        return next((m for m in self.versioned if m.version == version), None)


def sql_files(location: Path) -> list[str]:
    """Paths of the .sql files below `location`, relative to it, sorted.

    Hidden files and folders (editor lock files such as .#V1__x.sql) are not migrations.
    os.walk with plain strings: pathlib costs more than reading the files on a no-op run.
    """
    found = []
    base = len(str(location)) + 1
    for folder, dirs, names in os.walk(location):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        prefix = folder[base:].replace(os.sep, "/")
        for name in names:
            if name.lower().endswith(".sql") and not name.startswith("."):
                found.append(f"{prefix}/{name}" if prefix else name)
    return sorted(found)


def checksum(text: str) -> str:
    """sha256 of the script with line endings normalised, so Windows checkouts agree."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def read_script(path: Path, script: str) -> str:
    """The file's text; not UTF-8, unreadable or empty is an error naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MigrationFileError(f"{script}: cannot be read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MigrationFileError(
            f"{script}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
            hint="save the file as UTF-8",
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise MigrationFileError(
            f"{script}: the file is empty", hint="write the migration, or delete the file"
        )
    return text


def discover(locations: Iterable[Path]) -> MigrationSet:
    """Read every *.sql file below `locations`; misnamed or duplicate files are errors."""
    versioned: dict[Version, MigrationFile] = {}
    undo: dict[Version, MigrationFile] = {}
    repeatable: dict[str, MigrationFile] = {}
    callbacks: dict[str, list[MigrationFile]] = {}
    problems: list[str] = []
    for location in locations:
        if not location.is_dir():
            raise MigrationFileError(
                f"migration location {location} does not exist",
                hint="create it, or fix [migrations] locations in dbfleet.toml",
            )
        for script in sql_files(location):
            path = location / script
            try:
                found = _classify(path, script)
            except MigrationFileError as exc:
                problems.append(str(exc))
                continue
            if found.event is not None:
                callbacks.setdefault(found.event, []).append(found)
            elif found.kind is Kind.REPEATABLE:
                if found.description in repeatable:
                    problems.append(
                        f"{script} and {repeatable[found.description].script}: two repeatable "
                        f"migrations named '{found.description}' (rename one)"
                    )
                repeatable[found.description] = found
            else:
                assert found.version is not None
                target = versioned if found.kind is Kind.VERSIONED else undo
                if found.version in target:
                    problems.append(
                        f"{script} and {target[found.version].script}: both have version "
                        f"{found.version} (give one of them a new version)"
                    )
                target[found.version] = found
    for version, file in undo.items():
        if version not in versioned:
            problems.append(
                f"{file.script}: undo script without its versioned migration V{version}__*.sql "
                "(delete it, or fix its version)"
            )
    if problems:
        raise MigrationFileError("; ".join(problems))
    return MigrationSet(
        versioned=tuple(versioned[v] for v in sorted(versioned)),
        undo=undo,
        repeatable=tuple(repeatable[d] for d in sorted(repeatable)),
        callbacks={event: tuple(files) for event, files in callbacks.items()},
    )


# Sizes of the history table's columns.
_MAX_DESCRIPTION, _MAX_SCRIPT = 200, 1000


def _classify(path: Path, script: str) -> MigrationFile:
    name = path.name
    if len(script) > _MAX_SCRIPT:
        raise MigrationFileError(f"{script}: the path is longer than {_MAX_SCRIPT} characters")
    described = VERSIONED.match(name) or REPEATABLE.match(name)
    if described and len(_description(described["description"])) > _MAX_DESCRIPTION:
        raise MigrationFileError(
            f"{script}: the description is longer than {_MAX_DESCRIPTION} characters "
            "(the history table's limit); shorten the file name"
        )
    if match := VERSIONED.match(name):
        text = read_script(path, script)
        return MigrationFile(
            kind=Kind(match["kind"]),
            path=path,
            script=script,
            description=_description(match["description"]),
            version=Version.parse(match["version"]),
            text=text,
            checksum=checksum(text),
        )
    if match := REPEATABLE.match(name):
        text = read_script(path, script)
        return MigrationFile(
            kind=Kind.REPEATABLE,
            path=path,
            script=script,
            description=_description(match["description"]),
            text=text,
            checksum=checksum(text),
        )
    if match := CALLBACK.match(name):
        text = read_script(path, script)
        return MigrationFile(
            kind=None,
            path=path,
            script=script,
            description=_description(match["description"] or ""),
            event=match["event"],
            text=text,
            checksum=checksum(text),
        )
    raise MigrationFileError(
        f"{script}: not a migration name: expected V<version>__<description>.sql, "
        "U<version>__<description>.sql, R__<description>.sql or a callback such as "
        "beforeMigrate.sql"
    )


def _description(raw: str) -> str:
    return raw.replace("_", " ").strip()
