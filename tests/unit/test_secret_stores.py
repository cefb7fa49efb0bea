"""Secret-store references: how they are read, and that plain commands never load a store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dbfleet.config import load_project
from dbfleet.errors import ConfigError
from dbfleet.secretstores import Reference


def test_a_plain_command_imports_no_secret_store_client(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "dbfleet.toml").write_text(
        '[project]\nname = "p"\ndefault_environment = "dev"\n'
        '[environments.dev]\nurl = "sqlite:///dev.db"\n'
        '[environments.prod]\nurl = "postgresql://app:${vault:secret/prod#pw}@db/shop"\n',
        encoding="utf-8",
    )
    probe = textwrap.dedent(
        f"""
        import sys
        from dbfleet.cli import main
        try:
            main(["-C", {str(tmp_path)!r}, "status"])
        except SystemExit as exc:
            assert not exc.code, exc.code
        loaded = {{"hvac", "boto3", "botocore", "dbfleet.secretstores"}} & set(sys.modules)
        print("loaded:", sorted(loaded))
        """
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout, "prod's ${vault:...} is not resolved for dev"


def test_a_doubled_dollar_keeps_a_store_reference_literal(tmp_path: Path) -> None:
    (tmp_path / "dbfleet.toml").write_text(
        '[project]\nname = "p"\n[placeholders]\nnote = "$${vault:secret/app#pw}"\n',
        encoding="utf-8",
    )
    project = load_project(tmp_path / "dbfleet.toml")

    assert project.resolve(project.placeholders["note"], "here") == "${vault:secret/app#pw}"


@pytest.mark.parametrize(
    ("arg", "path", "key"),
    [
        ("secret/billing/prod#password", "secret/billing/prod", "password"),
        ("prod/db", "prod/db", None),
        (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf#password",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
            "password",
        ),
        ("odd#name#key", "odd#name", "key"),
    ],
)
def test_a_reference_is_a_path_and_an_optional_key_after_the_last_hash(
    arg: str, path: str, key: str | None
) -> None:
    reference = Reference.parse("aws-sm", arg, "here")

    assert (reference.path, reference.key) == (path, key)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("${vault:secret/app#}", "nothing follows the #"),
        ("${aws-sm:#pw}", "it names no secret"),
        ("${gcp-sm:projects/p/secrets/db}", "'gcp-sm' is not a secret store dbfleet knows"),
        ("${azure-kv:vault/db}", "'azure-kv' is not a secret store dbfleet knows"),
    ],
)
def test_a_malformed_or_unknown_store_reference_is_a_config_error(
    tmp_path: Path, value: str, problem: str
) -> None:
    (tmp_path / "dbfleet.toml").write_text('[project]\nname = "p"\n', encoding="utf-8")
    project = load_project(tmp_path / "dbfleet.toml")

    with pytest.raises(ConfigError) as caught:
        project.resolve(f"x{value}y", "dbfleet.toml: placeholders.p")

    assert problem in str(caught.value)
    assert str(caught.value).startswith("dbfleet.toml: placeholders.p uses ")
