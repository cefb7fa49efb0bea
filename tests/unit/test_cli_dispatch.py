"""The CLI builds only the command a command line runs, and the whole app when unsure."""

from __future__ import annotations

import pytest

from dbfleet.cli.app import COMMAND_MODULES, load_commands
from dbfleet.cli.dispatch import command_name, only_the_command

app = load_commands()


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["migrate", "--url", "sqlite:///x.db"], "migrate"),
        (["-C", "proj", "--debug", "status", "--json"], "status"),
        (["--project", "status", "migrate"], "migrate"),  # "status" is --project's value
        (["--config=dbfleet.toml", "info"], "info"),
        (["--config", "c.toml", "undo"], "undo"),
        ([], None),
        (["--help"], None),
        (["--unknown-global", "x", "migrate"], None),  # an option it does not know: unsure
    ],
)
def test_command_name(args, name):
    assert command_name(args) == name


def test_only_the_named_command_is_built_and_the_app_stays_whole():
    total = len(app.registered_commands)
    view = only_the_command(app, ["-C", ".", "info", "--json"])
    assert [c.name for c in view.registered_commands] == ["info"]
    assert len(app.registered_commands) == total
    assert only_the_command(app, ["migrat"]) is app  # a typo: typer suggests from all commands
    assert only_the_command(app, ["--help"]) is app


def test_every_registered_command_is_in_the_table_that_loads_it():
    from typer.main import get_command_name

    registered = {
        c.name or get_command_name(c.callback.__name__) for c in app.registered_commands
    } | {g.name for g in app.registered_groups}
    assert registered == set(COMMAND_MODULES)


def test_no_help_text_loses_words_to_rich_markup():
    """Help is rendered with Rich markup: "[pipeline]" or "migrations[@VERSION]" would vanish
    from what a user reads. Square brackets in help texts must be escaped or avoided."""
    import re

    import click
    import typer

    tag = re.compile(r"(?<!\\)\[[a-z@/][^\]]*\]")
    found = []

    def walk(command: click.Command, path: str) -> None:
        for text in (command.help, command.short_help):
            if text and tag.search(text):
                found.append(f"{path}: {text}")
        for param in command.params:
            help_text = getattr(param, "help", None)
            if help_text and tag.search(help_text):
                found.append(f"{path} {param.name}: {help_text}")
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "dbfleet")
    assert found == []
