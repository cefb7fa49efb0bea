"""Secret-store references: how they are read, and that plain commands never load a store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dbfleet.config import load_project
from dbfleet.errors import ConfigError
from dbfleet.secretstores import Reference, azure_secret_name, crc32c, gcp_secret_name


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
        clients = {{"hvac", "boto3", "botocore", "google.cloud", "azure", "dbfleet.secretstores"}}
        loaded = clients & set(sys.modules)
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
        ("${onepassword:vault/db}", "'onepassword' is not a secret store dbfleet knows"),
        ("${gcp-sm:db}", "a Google secret is named PROJECT/SECRET"),
        ("${gcp-sm:p/db@}", "a Google secret is named PROJECT/SECRET"),
        ("${azure-kv:db}", "an Azure Key Vault secret is named VAULT/NAME"),
        (
            "${azure-kv:https://kv.vault.azure.net/}",
            "an Azure Key Vault secret is named VAULT/NAME",
        ),
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


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("billing-prod/db#password", ("billing-prod", "db", "latest")),
        ("billing-prod/db@3", ("billing-prod", "db", "3")),
        ("billing-prod/db@stable#password", ("billing-prod", "db", "stable")),
        ("projects/billing-prod/secrets/db", ("billing-prod", "db", "latest")),
        ("projects/123456/secrets/db/versions/7#password", ("123456", "db", "7")),
    ],
)
def test_a_google_reference_is_project_secret_and_an_optional_version(
    arg: str, expected: tuple[str, str, str]
) -> None:
    assert gcp_secret_name(Reference.parse("gcp-sm", arg, "here")) == expected


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("billing-kv/db#password", ("https://billing-kv.vault.azure.net", "db", None)),
        ("billing-kv/db@0123abcd", ("https://billing-kv.vault.azure.net", "db", "0123abcd")),
        ("billing-kv.vault.azure.cn/db", ("https://billing-kv.vault.azure.cn", "db", None)),
        (
            "https://billing-kv.vault.azure.net/db#password",
            ("https://billing-kv.vault.azure.net", "db", None),
        ),
        (  # a secret identifier, as the portal shows it
            "https://billing-kv.vault.azure.net/secrets/db/0123abcd",
            ("https://billing-kv.vault.azure.net", "db", "0123abcd"),
        ),
        ("https://127.0.0.1:8443/db", ("https://127.0.0.1:8443", "db", None)),
    ],
)
def test_an_azure_reference_is_a_vault_name_or_url_and_a_secret_name(
    arg: str, expected: tuple[str, str, str | None]
) -> None:
    assert azure_secret_name(Reference.parse("azure-kv", arg, "here")) == expected


def test_crc32c_is_the_castagnoli_checksum_google_sends() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    assert crc32c(b"") == 0
