"""`dbfleet ci generate`: write the CI provider's workflow file for the project's pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbfleet.cli.app import Globals, app
from dbfleet.cli.output import emit_text, info

ci_app = typer.Typer(
    name="ci",
    help="CI workflow files that run the project's pipeline on GitHub, GitLab, Bitbucket, Azure.",
    no_args_is_help=True,
)
app.add_typer(ci_app, name="ci")


# Rich wraps paragraphs.
HELP = "\n\n".join(
    [
        "Write the CI provider's workflow file for the project's pipeline.",
        "Branches and pull requests: lint, SQL tests and a plan against staging. A merge to "
        "main: plan and apply to staging. A v* tag: plan prod, wait at the provider's approval "
        "gate, then apply exactly that plan.",
        "Database URLs stay in the provider's secret store: each ${env:VAR} that the used "
        "environments' settings read is mapped from a secret of that name; a password written "
        "into one of their URLs is refused.",
        "Default files: .github/workflows/dbfleet.yml, .gitlab-ci.yml, bitbucket-pipelines.yml, "
        "azure-pipelines.yml in the project folder. A file dbfleet did not write is replaced "
        "only with --force.",
    ]
)


@ci_app.command("generate", help=HELP)
def generate(
    ctx: typer.Context,
    provider: Annotated[str, typer.Argument(help="github, gitlab, bitbucket or azure.")],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write here instead of the provider's usual path; - prints it.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file that dbfleet did not write.")
    ] = False,
    staging: Annotated[
        str | None,
        typer.Option("--staging", help="The environment merges deploy to (default: staging)."),
    ] = None,
    prod: Annotated[
        str | None,
        typer.Option("--prod", help="The environment v* tags deploy to (default: prod)."),
    ] = None,
) -> None:
    from dbfleet.config import load_project
    from dbfleet.pipeline import ci

    ci.check_provider(provider)
    globals_: Globals = ctx.obj
    project = load_project(globals_.config, start=globals_.project_dir)
    workflow = ci.describe(project, provider, staging=staging, prod=prod)
    text = ci.render(workflow)
    for note in workflow.notes:
        info(f"note: {note}")
    if output == "-":
        emit_text(text)
        return
    path = Path(output) if output is not None else ci.default_path(project, provider)
    ci.write(path, text, force=force)
    info(
        f"wrote {path}: {workflow.staging.name} on merges to {workflow.main_branch}, "
        f"{workflow.prod.name} on v* tags after approval"
    )
    if workflow.variables:
        info("secrets it reads: " + ", ".join(workflow.variables))
    if workflow.project_dir and output is None:
        info(
            f"note: the project is in {workflow.project_dir}/ of its Git repository; "
            f"{provider} reads {ci.DEFAULT_PATHS[provider]} only at the repository root: "
            "move the file there (its commands already run in the project's folder)"
        )
