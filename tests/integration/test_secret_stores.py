"""${vault:...} and ${aws-sm:...} in dbfleet.toml, fetched for real and masked in every output.

Vault is a small KV v2 + AppRole HTTP endpoint these tests start (hvac talks to it over HTTP);
AWS Secrets Manager is moto's server on localhost (boto3 talks to it over HTTP).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from dbfleet import secretstores
from dbfleet.dburl import parse_url
from tests.support import Result, cli, cli_process, tables, write_project

MIGRATIONS = {
    "V1__create_invoice.sql": "CREATE TABLE invoice (id INT PRIMARY KEY);",
    "V2__create_customer.sql": "CREATE TABLE customer (id INT PRIMARY KEY);",
}


def fresh(prefix: str) -> str:
    """A value no other test uses (so masking by an earlier test cannot make a test pass)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def one_line_error(result: Result) -> str:
    """The single error line of a failed command (exit 1, no traceback)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_url_with_password(url: str, reference: str, database: str | None = None) -> str:
    """`url` (a test database) with `reference` standing in its password."""
    parsed = parse_url(url)
    return (
        f"postgresql://{parsed.user}:{reference}@{parsed.host}:{parsed.port or 5432}"
        f"/{database or parsed.database}"
    )


@pytest.fixture(autouse=True)
def fresh_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test is a new run: nothing cached, no DBFLEET_* or store variables from the shell."""
    import os

    for name in list(os.environ):
        if name.startswith(("DBFLEET_", "VAULT_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.vault-token, no ~/.aws
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    secretstores.clear_cache()
    yield
    secretstores.clear_cache()


# --- a local Vault: KV v2 reads and AppRole login ------------------------------------------


class LocalVault:
    """Just enough of Vault's HTTP API for hvac: GET /v1/MOUNT/data/PATH, POST approle login."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, Any]] = {}  # "mount/path" -> its key/value data
        self.tokens: dict[str, set[str] | None] = {}  # token -> readable "mount/path"s (None: all)
        self.approles: dict[tuple[str, str], str] = {}  # (role_id, secret_id) -> token
        self.namespace: str | None = None
        self.reads: list[str] = []
        self.logins = 0
        vault = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path).path.split("/")  # "", "v1", mount, "data", path...
                if len(parts) < 5 or parts[1] != "v1" or parts[3] != "data":
                    return self.answer(404, {"errors": []})
                secret = f"{parts[2]}/{'/'.join(parts[4:])}"
                token = self.headers.get("X-Vault-Token", "")
                readable = vault.tokens.get(token, set())
                namespace_ok = self.headers.get("X-Vault-Namespace") == vault.namespace
                if not namespace_ok or (readable is not None and secret not in readable):
                    return self.answer(403, {"errors": ["permission denied"]})
                vault.reads.append(secret)
                if secret not in vault.secrets:
                    return self.answer(404, {"errors": []})
                metadata = {"version": 1, "deletion_time": "", "destroyed": False}
                self.answer(200, {"data": {"data": vault.secrets[secret], "metadata": metadata}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/v1/auth/approle/login":
                    return self.answer(404, {"errors": []})
                vault.logins += 1
                token = vault.approles.get((body.get("role_id"), body.get("secret_id")))
                if token is None:
                    return self.answer(400, {"errors": ["invalid role or secret ID"]})
                self.answer(200, {"auth": {"client_token": token, "lease_duration": 3600}})

            def answer(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def vault(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalVault]:
    """A running local Vault; VAULT_ADDR and VAULT_TOKEN (which may read everything) point at it."""
    server = LocalVault()
    token = fresh("hvs.")
    server.tokens[token] = None
    monkeypatch.setenv("VAULT_ADDR", server.address)
    monkeypatch.setenv("VAULT_TOKEN", token)
    yield server
    server.server.shutdown()
    server.server.server_close()


def vault_project(root: Path, url: str, placeholders: str = "") -> Path:
    extra = f"[placeholders]\n{placeholders}\n" if placeholders else ""
    return write_project(root, url, MIGRATIONS, extra=extra)


@pytest.mark.postgres
def test_a_vault_password_in_the_url_lets_status_and_migrate_run_without_ever_showing_it(
    tmp_path: Path, pg_url: str, vault: LocalVault
) -> None:
    password = fresh("pw@/#%:?")  # a generated password with every character a URL dislikes
    vault.secrets["secret/billing/prod"] = {"password": password, "user": "postgres"}
    root = vault_project(
        tmp_path / "p", pg_url_with_password(pg_url, "${vault:secret/billing/prod#password}")
    )

    status = cli_process(root, "status")
    migrate = cli_process(root, "migrate")
    again = cli_process(root, "status")

    assert (status.exit_code, migrate.exit_code, again.exit_code) == (0, 0, 0), migrate.output
    assert {"invoice", "customer"} <= tables(pg_url)
    for result in (status, migrate, again):
        assert password not in result.output
        assert quote(password, safe="") not in result.output


@pytest.mark.postgres
def test_a_wrong_database_name_fails_in_one_line_that_does_not_show_the_vault_password(
    tmp_path: Path, pg_url: str, vault: LocalVault
) -> None:
    password = fresh("pw")
    vault.secrets["secret/app"] = {"pw": password}
    missing = fresh("no_such_db_")
    url = pg_url_with_password(pg_url, "${vault:secret/app#pw}", database=missing)
    root = vault_project(tmp_path / "p", url)

    result = cli_process(root, "migrate")

    line = one_line_error(result)
    assert missing in line
    assert password not in result.output


def test_a_vault_secret_in_a_placeholder_is_masked_even_in_a_failing_migrations_error(
    tmp_path: Path, vault: LocalVault
) -> None:
    token = fresh("tok")
    vault.secrets["secret/app"] = {"token": token}
    root = vault_project(
        tmp_path / "p", "sqlite:///app.db", placeholders='token = "${vault:secret/app#token}"'
    )
    (root / "migrations" / "V3__use_token.sql").write_text(
        "INSERT INTO missing_${token} VALUES (1);", encoding="utf-8"
    )

    result = cli(root, "migrate")

    assert result.exit_code == 1
    assert "missing_***" in result.output, "the failing statement is named, its secret masked"
    assert token not in result.output


def test_two_references_to_one_vault_secret_fetch_it_once(
    tmp_path: Path, vault: LocalVault
) -> None:
    vault.secrets["secret/app"] = {"db": "app.db", "owner": fresh("owner")}
    vault.secrets["secret/other"] = {"x": fresh("x")}
    root = vault_project(
        tmp_path / "p",
        "sqlite:///${vault:secret/app#db}",
        placeholders='owner = "${vault:secret/app#owner}"\nx = "${vault:secret/other#x}"',
    )

    result = cli(root, "migrate")

    assert result.exit_code == 0, result.output
    assert sorted(vault.reads) == ["secret/app", "secret/other"]
    assert (root / "app.db").exists()


def test_vault_approle_login_is_used_without_a_token_and_only_once(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    role_id, secret_id, token = fresh("role"), fresh("sid"), fresh("hvs.")
    vault.approles[(role_id, secret_id)] = token
    vault.tokens[token] = {"secret/app", "secret/other"}
    vault.secrets["secret/app"] = {"db": "app.db"}
    vault.secrets["secret/other"] = {"owner": fresh("owner")}
    monkeypatch.setenv("VAULT_ROLE_ID", role_id)
    monkeypatch.setenv("VAULT_SECRET_ID", secret_id)
    root = vault_project(
        tmp_path / "p",
        "sqlite:///${vault:secret/app#db}",
        placeholders='owner = "${vault:secret/other#owner}"',
    )

    result = cli(root, "migrate")

    assert result.exit_code == 0, result.output
    assert vault.logins == 1
    assert secret_id not in result.output and token not in result.output


def test_vault_namespace_is_sent_when_set(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.namespace = "team-billing"
    vault.secrets["secret/app"] = {"db": "app.db"}
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    without = cli(root, "status")
    secretstores.clear_cache()
    monkeypatch.setenv("VAULT_NAMESPACE", "team-billing")
    with_namespace = cli(root, "status")

    assert "permission denied" in one_line_error(without)
    assert with_namespace.exit_code == 0, with_namespace.output


# --- Vault errors: one line, what is wrong and what to do ----------------------------------


def test_vault_without_hvac_installed_says_which_extra_to_install(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hvac", None)  # what `import hvac` does when it is absent
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    line = one_line_error(cli(root, "status"))

    assert "environments.dev.url uses ${vault:secret/app#db}" in line
    assert "hvac package is not installed" in line and "pip install 'dbfleet[vault]'" in line


def test_vault_without_vault_addr_says_to_set_it(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_ADDR")
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    line = one_line_error(cli(root, "status"))

    assert "VAULT_ADDR is not set" in line and "export VAULT_ADDR=" in line


def test_vault_without_credentials_names_both_ways_to_log_in(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    line = one_line_error(cli(root, "status"))

    assert "no Vault credentials" in line
    assert "VAULT_TOKEN" in line and "VAULT_ROLE_ID and VAULT_SECRET_ID" in line


def test_vault_approle_with_half_the_credentials_says_which_is_missing(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("VAULT_ROLE_ID", fresh("role"))
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    line = one_line_error(cli(root, "status"))

    assert "VAULT_SECRET_ID is not set" in line


def test_vault_refusing_the_approle_login_is_one_line_without_the_secret_id(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    wrong = fresh("sid")
    monkeypatch.setenv("VAULT_ROLE_ID", fresh("role"))
    monkeypatch.setenv("VAULT_SECRET_ID", wrong)
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    result = cli(root, "status")

    line = one_line_error(result)
    assert "Vault refused the AppRole login: invalid role or secret ID" in line
    assert "check VAULT_ROLE_ID and VAULT_SECRET_ID" in line
    assert wrong not in result.output


def test_vault_permission_denied_names_the_path_and_the_likely_causes(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = fresh("hvs.")
    vault.tokens[limited] = {"secret/other"}
    vault.secrets["secret/app"] = {"db": "app.db"}
    monkeypatch.setenv("VAULT_TOKEN", limited)
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    result = cli(root, "status")

    line = one_line_error(result)
    assert "Vault denied reading secret/data/app (permission denied)" in line
    assert "policies" in line
    assert limited not in result.output


def test_a_missing_vault_secret_names_the_path_and_the_mount(
    tmp_path: Path, vault: LocalVault
) -> None:
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/billing/nope#db}")

    line = one_line_error(cli(root, "status"))

    assert "Vault has no secret 'billing/nope' in the KV mount 'secret'" in line


def test_a_missing_key_lists_the_keys_the_vault_secret_has_but_never_their_values(
    tmp_path: Path, vault: LocalVault
) -> None:
    user, password = fresh("user"), fresh("pw")
    vault.secrets["secret/app"] = {"username": user, "password": password}
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    result = cli(root, "status")

    line = one_line_error(result)
    assert "the secret has no key 'db'" in line and "its keys: password, username" in line
    assert user not in result.output and password not in result.output


def test_a_vault_reference_without_a_key_asks_for_one(tmp_path: Path, vault: LocalVault) -> None:
    vault.secrets["secret/app"] = {"db": "app.db"}
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app}")

    line = one_line_error(cli(root, "status"))

    assert (
        "it names no key of the secret" in line and "${vault:secret/app#KEY} (its keys: db)" in line
    )


def test_a_vault_path_without_a_mount_shows_the_expected_form(
    tmp_path: Path, vault: LocalVault
) -> None:
    root = vault_project(tmp_path / "p", "sqlite:///${vault:app#db}")

    line = one_line_error(cli(root, "status"))

    assert "a Vault path starts with its KV mount" in line


def test_an_unreachable_vault_is_named_by_its_address(
    tmp_path: Path, vault: LocalVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("VAULT_ADDR", address)
    root = vault_project(tmp_path / "p", "sqlite:///${vault:secret/app#db}")

    line = one_line_error(cli(root, "status"))

    assert f"cannot reach Vault at {address} (Connection refused)" in line
    assert "check VAULT_ADDR" in line


def test_an_unknown_secret_store_lists_the_supported_ones(tmp_path: Path) -> None:
    root = vault_project(tmp_path / "p", "sqlite:///${onepassword:vaults/p/items/db}")

    line = one_line_error(cli(root, "status"))

    assert "'onepassword' is not a secret store dbfleet knows" in line
    assert "${vault:MOUNT/PATH#KEY}, ${aws-sm:NAME#KEY}, ${gcp-sm:PROJECT/SECRET#KEY}" in line


# --- AWS Secrets Manager through moto's server ---------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class LocalAws:
    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.client = boto3.client(
            "secretsmanager",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def put(self, value: str | dict[str, Any] | bytes) -> str:
        """A new secret holding `value` (a dict as JSON); returns its name."""
        name = fresh("billing/prod-")
        if isinstance(value, bytes):
            self.client.create_secret(Name=name, SecretBinary=value)
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            self.client.create_secret(Name=name, SecretString=text)
        return name


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> LocalAws:
    """Credentials, a region and AWS_ENDPOINT_URL pointing boto3 at the local moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return LocalAws(moto_endpoint)


@pytest.mark.postgres
def test_an_aws_secret_json_field_as_the_url_password_runs_status_and_migrate_unseen(
    tmp_path: Path, pg_url: str, aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = fresh("pw#@/%")
    name = aws.put({"username": "postgres", "password": password, "port": 5432})
    # the service-specific variable, as a user with a VPC endpoint for one service sets it
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws.endpoint)
    root = write_project(
        tmp_path / "p", pg_url_with_password(pg_url, f"${{aws-sm:{name}#password}}"), MIGRATIONS
    )

    status = cli_process(root, "status")
    migrate = cli_process(root, "migrate")

    assert (status.exit_code, migrate.exit_code) == (0, 0), migrate.output
    assert {"invoice", "customer"} <= tables(pg_url)
    for result in (status, migrate):
        assert password not in result.output


@pytest.mark.postgres
def test_a_wrong_database_name_fails_in_one_line_that_does_not_show_the_aws_password(
    tmp_path: Path, pg_url: str, aws: LocalAws
) -> None:
    password = fresh("pw")
    name = aws.put({"password": password})
    missing = fresh("no_such_db_")
    url = pg_url_with_password(pg_url, f"${{aws-sm:{name}#password}}", database=missing)
    root = write_project(tmp_path / "p", url, MIGRATIONS)

    result = cli_process(root, "migrate")

    assert missing in one_line_error(result)
    assert password not in result.output


def test_an_aws_secret_that_is_not_json_is_used_whole_and_masked(
    tmp_path: Path, aws: LocalAws
) -> None:
    token = fresh("plain")
    name = aws.put(token)
    root = write_project(
        tmp_path / "p",
        "sqlite:///app.db",
        MIGRATIONS | {"V3__use.sql": "INSERT INTO missing_${token} VALUES (1);"},
        extra=f'[placeholders]\ntoken = "${{aws-sm:{name}}}"\n',
    )

    result = cli(root, "migrate")

    assert result.exit_code == 1
    assert "missing_***" in result.output and token not in result.output


def test_an_aws_secret_is_fetched_once_per_run(tmp_path: Path, aws: LocalAws) -> None:
    name = aws.put({"a": fresh("a"), "b": fresh("b")})
    first = secretstores.lookup("aws-sm", f"{name}#a", "here")
    aws.client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)

    second = secretstores.lookup("aws-sm", f"{name}#b", "here")  # from the run's cache

    assert first.startswith("a") and second.startswith("b")
    secretstores.clear_cache()
    with pytest.raises(Exception, match="has no secret"):
        secretstores.lookup("aws-sm", f"{name}#b", "here")


# --- AWS errors ------------------------------------------------------------------------------


def aws_error(root: Path) -> tuple[str, Result]:
    result = cli(root, "status")
    return one_line_error(result), result


def aws_project(tmp_path: Path, reference: str) -> Path:
    return write_project(tmp_path / "p", f"sqlite:///{reference}", MIGRATIONS)


def test_aws_without_boto3_installed_says_which_extra_to_install(
    tmp_path: Path, aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)

    line, _ = aws_error(aws_project(tmp_path, "${aws-sm:x#db}"))

    assert "boto3 package is not installed" in line and "pip install 'dbfleet[aws]'" in line


def test_aws_without_a_region_says_to_set_one(
    tmp_path: Path, aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")

    line, _ = aws_error(aws_project(tmp_path, "${aws-sm:x#db}"))

    assert "no AWS region is set" in line and "AWS_REGION" in line


def test_aws_without_credentials_says_where_they_come_from(
    tmp_path: Path, aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    line, _ = aws_error(aws_project(tmp_path, "${aws-sm:x#db}"))

    assert "no AWS credentials found" in line and "AWS_PROFILE" in line


def test_a_missing_aws_secret_names_it_and_the_region(tmp_path: Path, aws: LocalAws) -> None:
    line, _ = aws_error(aws_project(tmp_path, "${aws-sm:billing/nope#db}"))

    assert "AWS Secrets Manager has no secret 'billing/nope' in eu-west-1" in line


def test_a_missing_key_lists_the_keys_the_aws_secret_has_but_never_their_values(
    tmp_path: Path, aws: LocalAws
) -> None:
    user, password = fresh("user"), fresh("pw")
    name = aws.put({"username": user, "password": password})

    line, result = aws_error(aws_project(tmp_path, f"${{aws-sm:{name}#db}}"))

    assert "the secret has no key 'db'" in line and "its keys: password, username" in line
    assert user not in result.output and password not in result.output


def test_a_key_of_an_aws_secret_that_is_not_json_says_to_drop_it(
    tmp_path: Path, aws: LocalAws
) -> None:
    name = aws.put(fresh("plain"))

    line, _ = aws_error(aws_project(tmp_path, f"${{aws-sm:{name}#db}}"))

    assert "not a JSON object, so it has no key 'db'" in line and "drop #db" in line


def test_a_binary_aws_secret_is_refused(tmp_path: Path, aws: LocalAws) -> None:
    name = aws.put(b"\x00\x01binary")

    line, _ = aws_error(aws_project(tmp_path, f"${{aws-sm:{name}#db}}"))

    assert "the secret is binary (SecretBinary), not text" in line


def test_aws_denying_access_says_which_permission_is_needed(
    tmp_path: Path, aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto.core import enable_iam_authentication

    name = aws.put({"db": "app.db"})
    iam = boto3.client(
        "iam",
        endpoint_url=aws.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    user = fresh("deployer")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]  # a user with no policy at all
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    root = aws_project(tmp_path, f"${{aws-sm:{name}#db}}")

    with enable_iam_authentication():
        line, _ = aws_error(root)

    assert f"AWS denied reading the secret '{name}' (AccessDenied)" in line
    assert "secretsmanager:GetSecretValue" in line


def test_aws_rejecting_the_credentials_says_to_check_them(
    tmp_path: Path, aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core import enable_iam_authentication

    name = aws.put({"db": "app.db"})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA" + uuid.uuid4().hex[:16].upper())
    root = aws_project(tmp_path, f"${{aws-sm:{name}#db}}")

    with enable_iam_authentication():
        line, _ = aws_error(root)

    assert "AWS rejected the credentials" in line and "AWS_ACCESS_KEY_ID" in line


def test_an_unreachable_aws_endpoint_is_named(
    tmp_path: Path, aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)

    line, _ = aws_error(aws_project(tmp_path, "${aws-sm:x#db}"))

    assert f"cannot reach AWS Secrets Manager at {endpoint}" in line


class AwsErrorEndpoint:
    """Answers every call with the JSON error body AWS itself sends for `code` (moto's own
    IAM checks answer in XML, which real Secrets Manager never does)."""

    def __init__(self, code: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                payload = json.dumps({"__type": code, "message": f"{code} said AWS"}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.parametrize(
    ("code", "problem", "hint"),
    [
        ("AccessDeniedException", "AWS denied reading the secret 'app'", "GetSecretValue"),
        ("UnrecognizedClientException", "AWS rejected the credentials", "AWS_ACCESS_KEY_ID"),
        ("ExpiredTokenException", "AWS rejected the credentials", "renew an expired session"),
        ("DecryptionFailure", "AWS cannot decrypt the secret 'app'", "kms:Decrypt"),
        ("InvalidRequestException", "answered InvalidRequestException: Invalid", ""),
    ],
)
def test_each_aws_error_answer_becomes_one_line_with_what_to_do(
    tmp_path: Path,
    aws: LocalAws,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    problem: str,
    hint: str,
) -> None:
    endpoint = AwsErrorEndpoint(code)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.address)
    try:
        line, _ = aws_error(aws_project(tmp_path, "${aws-sm:app#db}"))
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()

    assert problem in line and hint in line
