"""One lint run: find the files, parse them, replay the schema, apply rules, settings and
suppressions. Pure except for reading files, git and (with --env) the database."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbfleet.errors import ConfigError, DbfleetError, SplitError
from dbfleet.lint.check import FileFacts, StatementOps, check_file
from dbfleet.lint.findings import Finding, LintResult, Severity
from dbfleet.lint.rules import BY_CODE, find_rule
from dbfleet.lint.schema import SchemaState, Table, TableSize
from dbfleet.lint.settings import LintSettings, settings_from
from dbfleet.lint.source import Lines, Located, locate

if TYPE_CHECKING:
    from dbfleet.config import Project
    from dbfleet.engines.base import Dialect, HistoryRow
    from dbfleet.lint.parsers import Parser

_SUPPRESSION = re.compile(
    r"--[ \t]*dbfleet:ignore(?![\w-])[ \t]*(?P<codes>[\w-]+(?:[ \t]*,[ \t]*[\w-]+)*)?"
    r"(?P<reason>[^\n]*)"
)


@dataclass
class Script:
    """One .sql file: what its name says, and whether this run reports on it."""

    path: Path
    shown: str  # the path as printed: relative to the project root when inside it
    kind: str | None = None  # V, U, R; None for callbacks and plain scripts
    version: tuple[int, ...] | None = None
    version_text: str | None = None
    linted: bool = True
    pending: bool = False  # its tables count as new for the files after it
    in_locations: bool = False
    script_name: str = ""  # the name the history table records (relative to its location)


@dataclass(frozen=True)
class Options:
    paths: tuple[Path, ...] = ()
    changed_since: str | None = None
    env: str | None = None


@dataclass
class _Run:
    project: Project
    settings: LintSettings
    dialect: Dialect
    parser: Parser
    engine: str
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        script: Script,
        code: str,
        message: str,
        lines: Lines | None,
        offset: int,
        line: int | None = None,
    ) -> None:
        rule = BY_CODE[code]
        if lines is not None:
            at_line, column = lines.position(offset) if line is None else (line, 1)
            source = lines.line(at_line)
        else:
            at_line, column, source = line or 1, 1, ""
        self.findings.append(
            Finding(
                rule.code,
                rule.name,
                rule.severity,
                message,
                script.shown,
                at_line,
                column,
                source,
                rule.alternative,
            )
        )


def lint(project: Project, options: Options) -> LintResult:
    """Lint the project's migrations (or `options.paths`) and return every finding."""
    engine = project.engine_name()
    from dbfleet.engines import dialect_for
    from dbfleet.lint.parsers import parser_for

    run = _Run(
        project,
        settings_from(project.lint, project.source),
        dialect_for(engine),
        parser_for(engine),
        engine,
    )
    if not options.paths and not any(loc.is_dir() for loc in project.locations):
        raise ConfigError(
            f"migration location {project.locations[0]} does not exist",
            hint="create it, fix [migrations] locations in dbfleet.toml, or pass files to lint",
        )
    scripts, misnamed = _discover(project)
    by_path = {s.path: s for s in scripts}
    located_paths = set(by_path)
    explicit = _explicit(project, options.paths, by_path) if options.paths else None
    if explicit is not None:
        for s in scripts:
            s.linted = s.path in explicit
        scripts += [s for p, s in explicit.items() if p not in located_paths]
    changes: dict[Path, str] | None = None
    if options.changed_since:
        changes = _changed_since(project, options.changed_since)
        for s in scripts:
            s.linted = s.linted and s.path in changes
            s.pending = s.path in changes and changes[s.path] == "A"
    history: Sequence[HistoryRow] | None = None
    state = SchemaState()
    if options.env:
        history, state.sizes = _environment(project, options.env)
        applied = {r.script for r in history if r.success}
        for s in scripts:
            s.pending = s.in_locations and s.kind in ("V", "R") and s.script_name not in applied
    for table in state.sizes:
        state.tables.setdefault(table, Table("existing"))
    for s in misnamed:
        if explicit is None or s.path in explicit:
            run.add(s, "DF705", "not a migration name, so it never runs", None, 0)
    for script in _in_order(scripts):
        _lint_file(run, script, state)
    _hygiene(run, scripts, changes, history)
    if run.settings.sqlfluff:
        _style(run, [s for s in scripts if s.linted])
    findings = _configure(run.settings, run.findings)
    return LintResult(
        files=tuple(s.shown for s in _in_order(scripts) if s.linted),
        findings=tuple(sorted(findings, key=lambda f: (f.path, f.line, f.column, f.code))),
        sizes_from=options.env,
    )


# --- files ------------------------------------------------------------------------------------


def _shown(project: Project, path: Path) -> str:
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        return path.as_posix()


def _discover(project: Project) -> tuple[list[Script], list[Script]]:
    """Every .sql file below the migration locations, classified by name (never by reading it:
    unreadable files become findings later, not errors here)."""
    from dbfleet.migrate import files

    scripts: list[Script] = []
    misnamed: list[Script] = []
    for location in project.locations:
        if not location.is_dir():
            continue
        for name in files.sql_files(location):  # the one definition of a .sql file
            path = location / name  # locations are resolved already: no per-file syscalls
            script = Script(path, _shown(project, path), in_locations=True, script_name=name)
            (scripts if _classify(script) else misnamed).append(script)
    return scripts, misnamed


def _classify(script: Script) -> bool:
    """Set what the file name says (V/U/R and version); False when it is no migration name."""
    from dbfleet.migrate import files

    base = script.path.name
    if match := files.VERSIONED.match(base):
        script.kind = match["kind"]
        script.version = files.Version.parse(match["version"]).parts
        script.version_text = match["version"]
    elif files.REPEATABLE.match(base):
        script.kind = "R"
    elif not files.CALLBACK.match(base):
        return False
    return True


def _explicit(
    project: Project, paths: Iterable[Path], known: dict[Path, Script]
) -> dict[Path, Script]:
    """The .sql files named on the command line (folders: the .sql files below them)."""
    chosen: dict[Path, Script] = {}
    for given in paths:
        path = (Path.cwd() / given).resolve()
        if path.is_dir():
            found = sorted(
                p.resolve()
                for p in path.rglob("*")
                if p.suffix.lower() == ".sql"
                and p.is_file()
                and not any(x.startswith(".") for x in p.relative_to(path).parts)
            )
        elif path.is_file():
            found = [path]
        else:
            raise ConfigError(f"{given}: no such file or folder", hint="pass .sql files or folders")
        for p in found:
            if p not in known:
                script = Script(p, _shown(project, p))
                _classify(script)  # a file outside the locations: its name still says its kind
                known[p] = script
            chosen[p] = known[p]
    return chosen


def _in_order(scripts: list[Script]) -> list[Script]:
    """The order migrate runs them in: versioned by version, then repeatable, then the rest."""

    def key(s: Script) -> tuple[int, tuple[int, ...], str]:
        if s.kind == "V":
            return 0, s.version or (), s.shown
        if s.kind == "R":
            return 1, (), s.shown
        return 2, (), s.shown

    return sorted(scripts, key=key)


def _read(run: _Run, script: Script) -> str | None:
    try:
        data = script.path.read_bytes()
    except OSError as exc:
        run.add(script, "DF002", f"cannot be read: {exc.strerror}", None, 0)
        return None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        run.add(
            script,
            "DF002",
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})",
            None,
            0,
            line,
        )
        return None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        run.add(script, "DF002", f"binary content (a NUL byte on line {line})", None, 0, line)
        return None
    return text


def _stand_ins(text: str) -> str:
    """${name} placeholders replaced by identifiers of the same length (`${schema}` ->
    `__schema_`), so the parser sees SQL and every position still matches the file."""
    from dbfleet.migrate.placeholders import PLACEHOLDER  # the one placeholder syntax

    def stand_in(match: re.Match[str]) -> str:
        name = re.sub(r"\W", "_", match["name"])
        return ("__" + name).ljust(len(match[0]), "_")

    return PLACEHOLDER.sub(stand_in, text) if "${" in text else text


def _lint_file(run: _Run, script: Script, state: SchemaState) -> None:
    original = _read(run, script)
    if original is None:
        return
    lines = Lines(original)
    text = _stand_ins(original) if run.project.placeholder_replacement else original
    try:
        statements = run.dialect.split(text)
    except SplitError as exc:
        if script.linted:
            run.add(script, "DF001", exc.message, lines, 0, exc.line)
        return
    located = locate(text, statements, run.dialect.nested_block_comments, run.dialect.hash_comments)
    parsed: list[StatementOps] = []
    for index, item in enumerate(located):
        result = run.parser.parse(item.statement.text)
        if result.problem is not None:
            if script.linted:
                offset = item.start + result.problem.offset
                run.add(
                    script, "DF001", result.problem.message, lines, max(offset, item.code_start)
                )
            continue
        if all(op.kind == "data" for op in result.ops):
            # Nothing any rule looks at (the bulk of data migrations): skip the bookkeeping.
            parsed.append(StatementOps(index, result.ops, False))
            continue
        outside = run.dialect.requires_no_transaction(item.statement)
        parsed.append(StatementOps(index, result.ops, outside))
    facts = FileFacts(
        script.kind,
        run.dialect.lock_timeout_settings,
        run.dialect.statement_timeout_settings,
        run.dialect.max_identifier,
        run.dialect.view_dependencies,
        run.settings.naming,
    )
    hits = check_file(parsed, facts, state, "new" if script.pending else "existing")
    if not script.linted:
        return
    if script.kind == "U":
        # An undo script exists to drop what its migration added: losing that data is its
        # purpose, and it only runs when someone asks for `dbfleet undo`.
        hits = [h for h in hits if BY_CODE[h.code].family != "data loss"]
    codes_at: dict[int, list[Finding]] = {}
    for hit in hits:
        # Offsets count in the statement's text; 0 (no position) means the statement's first
        # code character, past its comments.
        offset = 0
        if hit.statement is not None:
            item = located[hit.statement]
            offset = item.start + hit.offset if hit.offset else item.code_start
        before = len(run.findings)
        run.add(script, hit.code, hit.message, lines, offset)
        codes_at.setdefault(hit.statement if hit.statement is not None else -1, []).append(
            run.findings[before]
        )
    _suppress(run, script, original, lines, located, codes_at)


def _suppress(
    run: _Run,
    script: Script,
    text: str,
    lines: Lines,
    located: list[Located],
    codes_at: dict[int, list[Finding]],
) -> None:
    """Apply `-- dbfleet:ignore CODE reason` comments that stand before a statement."""
    for index, item in enumerate(located):
        lead = text[item.start : item.code_start]
        for match in _SUPPRESSION.finditer(lead):
            offset = item.start + match.start()
            codes = [c.strip() for c in (match["codes"] or "").split(",") if c.strip()]
            reason = match["reason"].strip()
            if not codes:
                run.add(script, "DF004", "dbfleet:ignore names no rule", lines, offset)
                continue
            if not reason:
                run.add(
                    script,
                    "DF003",
                    f"dbfleet:ignore {', '.join(codes)} gives no reason",
                    lines,
                    offset,
                )
            for code in codes:
                rule = find_rule(code)
                targets = [
                    f
                    for f in codes_at.get(index, [])
                    if rule is not None and f.code == rule.code and f.suppressed_by is None
                ]
                if rule is None:
                    run.add(script, "DF004", f"dbfleet:ignore {code}: no such rule", lines, offset)
                elif not targets:
                    run.add(
                        script,
                        "DF004",
                        f"dbfleet:ignore {rule.code} suppresses nothing: "
                        f"{rule.name} does not fire on the next statement",
                        lines,
                        offset,
                    )
                for finding in targets:
                    position = run.findings.index(finding)
                    suppressed = replace(finding, suppressed_by=reason or "(no reason)")
                    run.findings[position] = suppressed
                    codes_at[index][codes_at[index].index(finding)] = suppressed


def _style(run: _Run, scripts: list[Script]) -> None:
    from dbfleet.lint.style import style_problems

    by_path = {s.path: s for s in scripts}
    for path, line, column, message in style_problems(run.project.root, run.engine, list(by_path)):
        script = by_path.get(path)
        if script is not None:
            run.add(script, "DF801", message, None, 0, line)
            source = _source_line(path, line)
            run.findings[-1] = replace(run.findings[-1], column=column, source_line=source)


def _source_line(path: Path, number: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return lines[number - 1][:200] if 0 < number <= len(lines) else ""


def _configure(settings: LintSettings, findings: list[Finding]) -> list[Finding]:
    result = []
    for finding in findings:
        enabled, severity = settings.rule(finding.code, finding.path)
        if enabled:
            result.append(replace(finding, severity=Severity(severity)))
    return result


# --- git and environments ---------------------------------------------------------------------


def _git(project: Project, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=project.root, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise DbfleetError("--changed-since needs git, which is not installed") from None
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, args, proc.stdout, proc.stderr)
    return proc.stdout


def _changed_since(project: Project, ref: str) -> dict[Path, str]:
    """Files added ("A") or modified ("M") since `ref`: committed, staged, or not yet."""
    try:
        top = Path(_git(project, "rev-parse", "--show-toplevel").strip())
    except subprocess.CalledProcessError:
        raise ConfigError(
            f"--changed-since {ref}: {project.root} is not in a git repository",
            hint="run lint inside the repository's checkout, or drop --changed-since",
        ) from None
    try:
        _git(project, "rev-parse", "--verify", "--quiet", ref + "^{commit}")
    except subprocess.CalledProcessError:
        raise ConfigError(
            f"--changed-since {ref}: '{ref}' is not a commit here",
            hint="pass a branch, tag or commit that exists, e.g. origin/main (fetch it first)",
        ) from None
    changes: dict[Path, str] = {}
    committed = _git(project, "diff", "--name-status", "--no-renames", f"{ref}...HEAD")
    working = _git(project, "diff", "--name-status", "--no-renames", "HEAD")
    for output in (committed, working):
        for line in output.splitlines():
            status, _, name = line.partition("\t")
            if status[:1] in ("A", "M"):
                path = (top / name).resolve()
                changes[path] = "A" if changes.get(path) == "A" else status[:1]
    for name in _git(project, "ls-files", "--others", "--exclude-standard").splitlines():
        changes[(project.root / name).resolve()] = "A"
    return changes


def _environment(project: Project, name: str) -> tuple[Sequence[HistoryRow], dict[str, TableSize]]:
    from dbfleet.engines import connect
    from dbfleet.lint.catalog import table_sizes

    env = project.environment(name)
    with connect(env.url, create=False) as conn:
        sizes = table_sizes(conn)
        history: Sequence[HistoryRow] = ()
        if conn.table_exists(env.history_table, env.history_schema):
            history = conn.history(env.history_table, env.history_schema)
    sizes.pop(env.history_table.lower(), None)
    return history, sizes


def _hygiene(
    run: _Run,
    scripts: list[Script],
    changes: dict[Path, str] | None,
    history: Sequence[HistoryRow] | None,
) -> None:
    versioned = [s for s in scripts if s.kind == "V" and s.in_locations]
    undo = {s.version for s in scripts if s.kind == "U"}
    seen: dict[tuple[int, ...], Script] = {}
    for s in versioned:
        assert s.version is not None
        if s.version in seen and s.linted:
            run.add(
                s,
                "DF704",
                f"version {s.version_text} is also used by {seen[s.version].shown}",
                None,
                0,
            )
        seen.setdefault(s.version, s)
        if s.linted and s.version not in undo:
            run.add(s, "DF701", f"no undo script U{s.version_text}__*.sql", None, 0)
    if changes is not None:
        merged = [s.version for s in versioned if s.path not in changes or changes[s.path] == "M"]
        latest = max((v for v in merged if v is not None), default=None)
        for s in versioned:
            if not s.linted or s.version is None:
                continue
            if changes.get(s.path) == "A" and latest is not None and s.version < latest:
                run.add(
                    s,
                    "DF702",
                    f"new version {s.version_text} is lower than the latest "
                    f"merged one ({'.'.join(map(str, latest))})",
                    None,
                    0,
                )
            if changes.get(s.path) == "M":
                run.add(
                    s, "DF703", "edited since it was merged (it may already be applied)", None, 0
                )
    if history is not None:
        from dbfleet.migrate.files import Version, checksum

        rows = {r.script: r for r in history if r.success and r.version}
        applied = []
        for applied_row in rows.values():
            try:
                applied.append(Version.parse(str(applied_row.version)).parts)
            except ValueError:  # a row another tool wrote: not ours to judge here
                continue
        latest = max(applied, default=None)
        for s in versioned:
            row = rows.get(s.script_name)
            if not s.linted:
                continue
            if row is None and latest is not None and s.version is not None and s.version < latest:
                run.add(
                    s,
                    "DF702",
                    f"version {s.version_text} is not applied but lower than "
                    f"the latest applied one ({'.'.join(map(str, latest))})",
                    None,
                    0,
                )
            if row is not None and row.checksum:
                try:
                    text = s.path.read_text(encoding="utf-8").removeprefix("\ufeff")
                except (OSError, UnicodeDecodeError):
                    continue
                if checksum(text) != row.checksum:
                    run.add(
                        s,
                        "DF703",
                        "edited after it was applied (checksum differs from the history table's)",
                        None,
                        0,
                    )
