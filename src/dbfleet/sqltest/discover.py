"""Finding a project's SQL tests: seed files, built-in test files and pgTAP files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dbfleet.errors import DbfleetError

SEED_FOLDER = "seed"
SUFFIXES = (".sql", ".pg")
_TEST_DIRECTIVE = re.compile(r"^[ \t]*--[ \t]*test[ \t]*:", re.I | re.M)
# pg_prove's conventions: a .pg file, or SQL that declares a plan or runs xUnit-style tests.
_PGTAP_CALL = re.compile(r"\b(?:no_)?plan\s*\(|\bruntests\s*\(", re.I)


@dataclass(frozen=True)
class SqlFile:
    """A test or seed file, read as UTF-8; `name` is its project-relative path."""

    path: Path
    name: str
    text: str
    kind: Literal["sql", "pgtap", "seed"]


@dataclass(frozen=True)
class TestFolder:
    folder: Path
    seeds: tuple[SqlFile, ...]
    tests: tuple[SqlFile, ...]
    ignored: tuple[str, ...] = ()  # SQL files that are neither kind of test (fixtures, notes)


def discover(root: Path, folder: Path) -> TestFolder:
    """Seed files (`seed/*.sql`, by name) and test files (`**/*.sql`, `**/*.pg`, by path).

    A `.pg` file is a pgTAP file; a `.sql` file with a `-- test:` comment holds built-in tests,
    and one without that calls plan(), no_plan() or runtests() is a pgTAP file. Other SQL files
    (fixtures of other test suites sharing the folder) are listed as ignored, for the caller
    to say so.
    """
    if not folder.is_dir():
        return TestFolder(folder, (), ())
    seed_dir = folder / SEED_FOLDER
    seeds = tuple(_read(root, p, "seed") for p in sorted(seed_dir.glob("*.sql")) if p.is_file())
    tests: list[SqlFile] = []
    ignored: list[str] = []
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        inside = path.relative_to(folder).parts
        if (
            not path.is_file()
            or path.suffix.lower() not in SUFFIXES
            or inside[0] == SEED_FOLDER
            or any(part.startswith(".") for part in inside)
        ):
            continue
        file = _classify(_read(root, path, "sql"))
        if file is None:
            ignored.append(relative(root, path))
        else:
            tests.append(file)
    return TestFolder(folder, seeds, tuple(tests), tuple(ignored))


def _read(root: Path, path: Path, kind: Literal["sql", "pgtap", "seed"]) -> SqlFile:
    name = relative(root, path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DbfleetError(f"{name}: cannot be read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DbfleetError(
            f"{name}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
            hint="save the file as UTF-8",
        ) from None
    if "\x00" in text:
        raise DbfleetError(
            f"{name}: a binary file, not SQL", hint="move it out of the tests folder"
        )
    return SqlFile(path, name, text, kind)


def _classify(file: SqlFile) -> SqlFile | None:
    pgtap = SqlFile(file.path, file.name, file.text, "pgtap")
    if file.path.suffix.lower() == ".pg":
        return pgtap  # whatever its comments say
    if _TEST_DIRECTIVE.search(file.text):
        return file
    return pgtap if _PGTAP_CALL.search(file.text) else None


def relative(root: Path, path: Path) -> str:
    """`path` as the user names it: relative to the project when it is inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
