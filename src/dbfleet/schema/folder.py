"""Apply a folder of desired-state DDL files to an (empty) database, whatever their order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dbfleet.engines.base import Connection, StatementError
from dbfleet.errors import DbfleetError
from dbfleet.migrate.files import read_script
from dbfleet.schema.layout import FOLDERS, TOP_FILES


@dataclass
class _Pending:
    path: Path
    name: str
    statements: list[tuple[str, int]]
    done: int = 0  # statements already applied (engines without transactional DDL)
    error: str = ""


def _priority(relative: Path) -> tuple[int, str]:
    parts = relative.parts
    if len(parts) == 1 and parts[0] in TOP_FILES:
        return 0, relative.as_posix()
    if len(parts) == 2 and parts[1] == "schema.sql":
        return 1, relative.as_posix()
    if len(parts) >= 3 and parts[-2] in FOLDERS:
        return 2 + FOLDERS.index(parts[-2]), relative.as_posix()
    return 2 + len(FOLDERS), relative.as_posix()


def apply_folder(conn: Connection, folder: Path, *, label: str) -> int:
    """Run every .sql file below `folder`; files that fail for want of another are retried.

    Files are tried in layout order (extensions, schemas, types, sequences, functions, tables,
    views, ...); a file that fails is rolled back (or, without transactional DDL, resumed after
    its last good statement) and tried again after the others, until nothing more succeeds.
    Returns the number of files applied.
    """
    if not folder.is_dir():
        raise DbfleetError(f"{label}: {folder} is not a folder")
    dialect = conn.dialect
    pending = []
    for path in sorted(folder.rglob("*.sql"), key=lambda p: _priority(p.relative_to(folder))):
        name = path.relative_to(folder.parent).as_posix()
        text = read_script(path, name)
        try:
            statements = [(s.text, s.line) for s in dialect.split(text)]
        except DbfleetError as exc:
            raise DbfleetError(f"{name}:{getattr(exc, 'line', 1)}: {exc}") from None
        pending.append(_Pending(path, name, statements))
    applied = 0
    while pending:
        progress = False
        still: list[_Pending] = []
        for item in pending:
            if _apply(conn, item):
                applied += 1
                progress = True
            else:
                still.append(item)
        pending = still
        if not progress:
            details = "; ".join(item.error for item in pending[:5])
            more = f" (and {len(pending) - 5} more)" if len(pending) > 5 else ""
            raise DbfleetError(
                f"{label}: {len(pending)} file(s) cannot be applied: {details}{more}",
                hint="fix the SQL in those files (each is retried until what it needs exists); if "
                "the scratch server lacks something, such as an extension, set [project] "
                "scratch_url to a server that has it",
            )
    return applied


def _apply(conn: Connection, item: _Pending) -> bool:
    dialect = conn.dialect
    from dbfleet.engines.base import Statement

    with_tx = dialect.transactional_ddl
    if with_tx:
        conn.begin()
    for index in range(item.done, len(item.statements)):
        sql, line = item.statements[index]
        try:
            conn.execute(sql)
        except StatementError as exc:
            where = dialect.error_line(Statement(sql, line), exc.position)
            item.error = f"{item.name}:{where}: {exc.message}"
            if with_tx:
                conn.rollback()
            else:
                item.done = index
            return False
    if with_tx:
        conn.commit()
    return True
