"""`dbfleet diff FROM TO` and `dbfleet generate DESCRIPTION`: ALTER scripts between schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_text, info
from dbfleet.errors import DbfleetError

if TYPE_CHECKING:
    from dbfleet.config import Project
    from dbfleet.diff import Diff, Options
    from dbfleet.schema.model import Model

SourceHelp = "env:NAME, a database URL, dir:PATH, migrations, migrations@VERSION or file:MODEL.json"

# Options `diff` and `generate` share.
RenameOption = Annotated[
    list[str] | None,
    typer.Option("--rename", help="Rename instead of drop+add: schema.table[.column]=new."),
]
OnlineOption = Annotated[
    bool | None,
    typer.Option(
        "--online/--no-online",
        help="PostgreSQL: CONCURRENTLY, NOT VALID, lock_timeout "
        "(default: \\[diff] online in dbfleet.toml).",
    ),
]


def _options(renames: list[str] | None, online: bool | None, project: Project) -> Options:
    from dbfleet.diff import Options

    pairs = []
    for item in renames or ():
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip() or new.count(".") > 1:
            raise DbfleetError(
                f"--rename {item}: not OLD=NEW",
                hint="e.g. --rename public.invoices.amount=total, --rename public.bills=invoices "
                "or --rename public.bills=archive.bills (a move to another schema)",
            )
        pairs.append((old.strip(), new.strip()))
    seconds = project.lock_timeout_seconds
    timeout = f"{int(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"
    return Options(
        renames=tuple(pairs),
        online=project.online if online is None else online,
        lock_timeout=timeout,
    )


def _load(
    source: str,
    project: Project,
    schema: list[str] | None,
    exclude: list[str] | None,
    privileges: bool = False,
    owners: bool = False,
) -> Model:
    from dbfleet.schema.sources import load_model, parse_source

    return load_model(
        parse_source(source),
        project,
        schemas=tuple(schema or ()),
        exclude=tuple(exclude or ()),
        privileges=privileges,
        owners=owners,
    )


def _fail_on(codes: str | None) -> set[str]:
    from dbfleet.diff.change import HAZARDS

    wanted = {c.strip() for c in (codes or "").split(",") if c.strip()}
    unknown = wanted - set(HAZARDS)
    if unknown:
        raise DbfleetError(
            f"--fail-on {', '.join(sorted(unknown))}: not a hazard code",
            hint="use " + ", ".join(sorted(HAZARDS)),
        )
    return wanted


def _html(d: Diff, title: str) -> str:
    from dbfleet.report.html import render_diff_html

    return render_diff_html(d, title)


@app.command()
def diff(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help=SourceHelp)],
    target: Annotated[str, typer.Argument(metavar="TO", help=SourceHelp)],
    format: Annotated[
        str, typer.Option("--format", "-f", help="sql, json, md or html (one page).")
    ] = "sql",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    inverse: Annotated[
        Path | None,
        typer.Option("--inverse", help="Also write the script that turns TO back into FROM."),
    ] = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 2 when there are differences.")
    ] = False,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="Exit 1 when one of these hazards (comma-separated) occurs."
        ),
    ] = None,
    rename: RenameOption = None,
    online: OnlineOption = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Replay the script on a scratch copy of FROM and check it."),
    ] = False,
    schema: Annotated[
        list[str] | None, typer.Option("--schema", "-s", help="Only this schema (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", help="Leave out objects matching this glob (repeatable)."),
    ] = None,
    privileges: Annotated[
        bool, typer.Option("--privileges", help="Compare GRANTs and REVOKEs too.")
    ] = False,
    owners: Annotated[bool, typer.Option("--owners", help="Compare object owners too.")] = False,
) -> None:
    """Show the SQL that turns FROM into TO, with the hazard of every risky statement."""
    from dbfleet.config import load_project
    from dbfleet.diff import diff as compute
    from dbfleet.diff.script import render_json, render_markdown, render_sql, summary_line

    if format not in ("sql", "json", "md", "html"):
        raise DbfleetError(f"--format {format}: not a format", hint="use sql, json, md or html")
    failing = _fail_on(fail_on)
    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    options = _options(rename, online, project)
    before = _load(source, project, schema, exclude, privileges, owners)
    after = _load(target, project, schema, exclude, privileges, owners)
    forward = compute(before, after, options)
    if verify:
        verify_diff(project, before, after, forward)
    title = f"dbfleet diff: {source} -> {target}"
    text = {
        "sql": lambda: render_sql(forward, title),
        "json": lambda: render_json(forward),
        "md": lambda: render_markdown(forward, f"{source} → {target}"),
        "html": lambda: _html(forward, f"{source} → {target}"),
    }[format]()
    if output is None:
        emit_text(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        info(f"wrote {output}: {summary_line(forward)}")
    if inverse is not None:
        backward = compute(after, before, options.inverted())
        inverse.parent.mkdir(parents=True, exist_ok=True)
        inverse.write_text(render_sql(backward, f"dbfleet diff: {target} -> {source}"), "utf-8")
        info(f"wrote {inverse}: {summary_line(backward)}")
    found = sorted({h.code for _, h in forward.hazards()} & failing)
    if found:
        raise DbfleetError(f"hazards present: {', '.join(found)}", hint="see the script")
    if exit_code and forward:
        raise typer.Exit(2)


def verify_diff(project: Project, before: Model, after: Model, forward: Diff) -> None:
    """Apply `forward` to a scratch copy of `before`; fail unless the result is `after`."""
    from dbfleet.diff import diff as compute
    from dbfleet.engines import dialect_for
    from dbfleet.schema.scratch import ReplayFailed, replayed

    # Cut as a migration file would be (MariaDB routines come wrapped in DELIMITER).
    script = dialect_for(before.engine).split("\n".join(forward.statements()))
    try:
        result = replayed(project, before, [s.text for s in script])
    except ReplayFailed as exc:
        raise DbfleetError(
            f"--verify: statement {exc.index} of the script fails on a copy of FROM: {exc}",
            hint="this is a dbfleet bug; please report it with both schemas",
        ) from None
    left = compute(result, after)
    if left:
        raise DbfleetError(
            f"--verify: after the script the schema still differs from TO: {left.changes[0].name}",
            hint="this is a dbfleet bug; please report it with both schemas",
        )
    info("verified: the script turns a copy of FROM into TO")


# --- generate ----------------------------------------------------------------------------------


@app.command()
def generate(
    ctx: typer.Context,
    description: Annotated[str, typer.Argument(help="What the change does, e.g. add_invoice_due.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the files instead of writing them.")
    ] = False,
    rename: RenameOption = None,
    online: OnlineOption = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Replay the migration before writing.")
    ] = True,
) -> None:
    """Write the next V and U migrations: from the migrations' schema to the one in schema/."""
    from dbfleet.config import load_project
    from dbfleet.diff import diff as compute
    from dbfleet.diff.script import summary_line
    from dbfleet.migrate.files import discover
    from dbfleet.schema.sources import Source, load_model

    slug = re.sub(r"[^A-Za-z0-9]+", "_", description).strip("_").lower()
    if not slug:
        raise DbfleetError(f"'{description}' is not a description", hint="e.g. add_invoice_due")
    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    schema_dir = project.schema_dir or project.root / "schema"
    if not schema_dir.is_dir():
        raise DbfleetError(
            f"no schema folder at {schema_dir}",
            hint="write the desired schema there (`dbfleet inspect migrations --split -o schema`)",
        )
    options = _options(rename, online, project)
    current = load_model(Source("migrations", ""), project)
    desired = load_model(Source("dir", str(schema_dir)), project)
    forward = compute(current, desired, options)
    if not forward:
        raise DbfleetError(
            "nothing to generate: the migrations already produce the schema in "
            f"{_shown(schema_dir, project.root)}"
        )
    backward = compute(desired, current, options.inverted())
    if verify:
        verify_diff(project, current, desired, forward)
    migrations = discover(project.locations)
    version = _next_version([m.version.parts for m in migrations.versioned if m.version])
    files = _migration_files(version, slug, forward, backward)
    folder = project.locations[0]
    if dry_run:
        for name, text in files.items():
            emit_text(f"-- {folder.name}/{name}\n{text}")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    _drop_unused_suppressions(project, [folder / name for name in files])
    for name in files:
        info(f"wrote {folder.name}/{name}")
    info(summary_line(forward))


def _drop_unused_suppressions(project: Project, paths: list[Path]) -> None:
    """The diff engine marks statements that trip a lint rule by design (a rebuilt table's old
    copy dropped) with dbfleet:ignore; where lint, knowing the migrations before, finds the rule
    does not fire there (the table is new), the comment would be a warning of its own: drop it."""
    from dbfleet.lint.run import Options
    from dbfleet.lint.run import lint as run_lint

    if not any("dbfleet:ignore" in p.read_text(encoding="utf-8") for p in paths):
        return
    try:
        result = run_lint(project, Options(paths=tuple(paths)))
    except DbfleetError:
        return  # lint cannot run here: the comments stay, which is harmless
    unused: dict[str, set[int]] = {}
    for finding in result.findings:
        if finding.code == "DF004":
            unused.setdefault(Path(finding.path).name, set()).add(finding.line)
    for path in paths:
        lines = unused.get(path.name)
        if lines:
            kept = [
                line
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if n not in lines or "dbfleet:ignore" not in line
            ]
            path.write_text("\n".join(kept) + "\n", encoding="utf-8")


def _shown(path: Path, root: Path) -> Path:
    return path.relative_to(root) if path.is_relative_to(root) else path


def _next_version(existing: list[tuple[int, ...]]) -> str:
    if not existing:
        return "1"
    head = max(existing)[0]
    if head >= 10**11:  # timestamp versions (20261122103000): keep the style
        return datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return str(head + 1)


def _migration_files(version: str, slug: str, forward: Diff, backward: Diff) -> dict[str, str]:
    """V (and U) files; statements that cannot run in a transaction get a V file of their own."""
    from dbfleet.diff.script import render_sql

    segments: list[tuple[bool, list[str]]] = []
    for change in forward.changes:
        for step in change.steps:
            if not segments or segments[-1][0] != step.transactional or not step.transactional:
                segments.append((step.transactional, []))
            segments[-1][1].append(step.sql)
    header = render_sql(forward, f"generated by dbfleet: {slug}").splitlines()
    files: dict[str, str] = {}
    if len(segments) == 1:
        directive = [] if segments[0][0] else ["-- dbfleet:no-transaction"]
        files[f"V{version}__{slug}.sql"] = "\n".join([*directive, *header]) + "\n"
        files[f"U{version}__{slug}.sql"] = render_sql(backward, f"undoes V{version}__{slug}")
        return files
    versions = [version if i == 0 else f"{version}.{i}" for i in range(len(segments))]
    for i, (transactional, statements) in enumerate(segments):
        lines = [] if transactional else ["-- dbfleet:no-transaction"]
        lines += [f"-- generated by dbfleet: {slug}, part {i + 1} of {len(segments)}"]
        lines += [*forward.prologue, *statements]
        files[f"V{versions[i]}__{slug}.sql"] = "\n".join(lines) + "\n"
    last = versions[-1]
    files[f"U{last}__{slug}.sql"] = render_sql(backward, f"undoes V{version}..V{last} {slug}")
    for v in versions[:-1]:
        files[f"U{v}__{slug}.sql"] = f"-- U{last}__{slug}.sql undoes this part too\nSELECT 1;\n"
    return files
