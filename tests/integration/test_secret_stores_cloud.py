"""${gcp-sm:...} and ${azure-kv:...} in dbfleet.toml, fetched for real and masked in every output.

Google Secret Manager is a small HTTP endpoint these tests start, spoken to by the real client
library over its REST transport (DBFLEET_GCP_SM_ENDPOINT points it there). Azure Key Vault is a
local HTTPS endpoint with the Key Vault challenge flow, reached the way a corporate network reaches
the real one: `https://billing-kv.vault.azure.net` through an HTTPS_PROXY (a CONNECT proxy that
tunnels to it), a certificate from a CA the test makes (REQUESTS_CA_BUNDLE), and a token from
DefaultAzureCredential's managed identity (IDENTITY_ENDPOINT, as on App Service).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import StreamRequestHandler, ThreadingTCPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from dbfleet import secretstores
from tests.integration.test_secret_stores import (
    MIGRATIONS,
    closed_port,
    fresh,
    one_line_error,
    pg_url_with_password,
)
from tests.support import Result, cli, cli_process, tables, write_project

ENDPOINT = secretstores.GCP_ENDPOINT


@pytest.fixture(autouse=True)
def fresh_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test is a new run: nothing cached, no cloud credentials or proxies from the shell."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(("DBFLEET_", "GOOGLE_", "CLOUDSDK_", "AZURE_", "MSI_", "IDENTITY_")):
            monkeypatch.delenv(name)
        if upper in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.config/gcloud, no ~/.azure
    secretstores.clear_cache()
    yield
    secretstores.clear_cache()


class Answering(BaseHTTPRequestHandler):
    def answer(
        self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(
    handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def stop(server: ThreadingHTTPServer | ThreadingTCPServer) -> None:
    server.shutdown()
    server.server_close()


def project(
    root: Path, url: str, placeholders: str = "", migrations: dict[str, str] | None = None
) -> Path:
    extra = f"[placeholders]\n{placeholders}\n" if placeholders else ""
    return write_project(root, url, migrations or MIGRATIONS, extra=extra)


def error(root: Path, env: dict[str, str] | None = None) -> tuple[str, Result]:
    """The one line `status` fails with, run as a process: a client library's log lines show."""
    result = cli_process(root, "status", env={ENDPOINT: os.environ.get(ENDPOINT, "")} | (env or {}))
    return one_line_error(result), result


# --- a local Google Secret Manager ---------------------------------------------------------


def google_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


class LocalGoogle:
    """`GET /v1/projects/P/secrets/S/versions/V:access` as Secret Manager's REST API answers it."""

    def __init__(self) -> None:
        self.secrets: dict[str, list[bytes]] = {}  # "project/secret" -> its versions, 1 first
        self.denied: set[str] = set()  # "project/secret"s the caller may not read
        self.disabled: set[str] = set()  # "project/secret"s whose versions are all disabled
        self.damaged = False  # send a checksum that does not match the payload
        self.unavailable = False  # answer 503 UNAVAILABLE, as during an outage
        self.reads: list[str] = []
        google = self

        class Handler(Answering):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                parts = path.removesuffix(":access").split(
                    "/"
                )  # "", v1, projects, P, secrets, S, versions, V
                if (
                    len(parts) != 8
                    or not path.endswith(":access")
                    or "Authorization" in self.headers
                ):
                    return self.answer(400, google_error(400, "INVALID_ARGUMENT", "bad request"))
                project, secret, version = parts[3], parts[5], parts[7]
                key = f"{project}/{secret}"
                google.reads.append(f"{key}@{version}")
                if google.unavailable:
                    message = "The service is currently unavailable."
                    return self.answer(503, google_error(503, "UNAVAILABLE", message))
                if not re.fullmatch(r"[A-Za-z0-9_-]+", secret):
                    message = "Invalid resource field value in the request."
                    return self.answer(400, google_error(400, "INVALID_ARGUMENT", message))
                if key in google.denied:
                    message = (
                        "Permission 'secretmanager.versions.access' denied for resource "
                        f"'projects/{project}/secrets/{secret}/versions/{version}' (or it may not exist)."
                    )
                    return self.answer(403, google_error(403, "PERMISSION_DENIED", message))
                versions = google.secrets.get(key, [])
                number = (
                    len(versions)
                    if version == "latest"
                    else int(version)
                    if version.isdigit()
                    else 0
                )
                if not 1 <= number <= len(versions):
                    message = f"Secret Version [projects/{project}/secrets/{secret}/versions/{version}] not found."
                    return self.answer(404, google_error(404, "NOT_FOUND", message))
                if key in google.disabled:
                    message = f"Secret Version [projects/{project}/secrets/{secret}/versions/{number}] is in DISABLED state."
                    return self.answer(400, google_error(400, "FAILED_PRECONDITION", message))
                data = versions[number - 1]
                checksum = secretstores.crc32c(data) + (1 if google.damaged else 0)
                name = f"projects/{project}/secrets/{secret}/versions/{number}"
                payload = {"data": base64.b64encode(data).decode(), "dataCrc32c": str(checksum)}
                self.answer(200, {"name": name, "payload": payload})

        self.server = serve(Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def put(self, value: str | dict[str, Any] | bytes, project: str = "billing-prod") -> str:
        """A new secret (or a new version of it) holding `value`; returns `project/secret`."""
        name = f"{project}/{fresh('db-')}"
        self.add_version(name, value)
        return name

    def add_version(self, name: str, value: str | dict[str, Any] | bytes) -> None:
        data = (
            value
            if isinstance(value, bytes)
            else (value if isinstance(value, str) else json.dumps(value)).encode()
        )
        self.secrets.setdefault(name, []).append(data)


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalGoogle]:
    server = LocalGoogle()
    monkeypatch.setenv(ENDPOINT, server.endpoint)
    yield server
    stop(server.server)


@pytest.mark.postgres
def test_a_google_secret_field_as_the_url_password_runs_status_and_migrate_unseen(
    tmp_path: Path, pg_url: str, google: LocalGoogle
) -> None:
    password = fresh("pw#@/%")
    name = google.put({"username": "postgres", "password": password})
    root = project(tmp_path / "p", pg_url_with_password(pg_url, f"${{gcp-sm:{name}#password}}"))
    env = {ENDPOINT: google.endpoint}

    status = cli_process(root, "status", env=env)
    migrate = cli_process(root, "migrate", env=env)

    assert (status.exit_code, migrate.exit_code) == (0, 0), migrate.output
    assert {"invoice", "customer"} <= tables(pg_url)
    for result in (status, migrate):
        assert password not in result.output and quote(password, safe="") not in result.output


def test_a_whole_google_secret_in_a_placeholder_is_masked_in_a_failing_migrations_error(
    tmp_path: Path, google: LocalGoogle
) -> None:
    token = fresh("plain")
    name = google.put(token)
    root = project(
        tmp_path / "p",
        "sqlite:///app.db",
        placeholders=f'token = "${{gcp-sm:{name}}}"',
        migrations=MIGRATIONS | {"V3__use.sql": "INSERT INTO missing_${token} VALUES (1);"},
    )

    result = cli(root, "migrate")

    assert result.exit_code == 1
    assert "missing_***" in result.output and token not in result.output


def test_two_keys_of_one_google_secret_are_one_request_and_a_version_can_be_pinned(
    tmp_path: Path, google: LocalGoogle
) -> None:
    name = google.put({"db": "old.db", "owner": fresh("owner")})
    google.add_version(name, {"db": "app.db", "owner": fresh("owner")})
    root = project(
        tmp_path / "p",
        f"sqlite:///${{gcp-sm:{name}#db}}",
        placeholders=f'owner = "${{gcp-sm:{name}#owner}}"\nold = "${{gcp-sm:{name}@1#db}}"',
    )

    result = cli(root, "migrate")

    assert result.exit_code == 0, result.output
    assert sorted(google.reads) == [f"{name}@1", f"{name}@latest"]
    assert (root / "app.db").exists() and not (root / "old.db").exists()


def test_google_without_the_client_library_says_which_extra_to_install(
    tmp_path: Path, google: LocalGoogle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.secretmanager", None)

    line = one_line_error(
        cli(project(tmp_path / "p", "sqlite:///${gcp-sm:billing-prod/db#name}"), "status")
    )

    assert "environments.dev.url uses ${gcp-sm:billing-prod/db#name}" in line
    assert "google-cloud-secret-manager package is not installed" in line
    assert "pip install 'dbfleet[gcp]'" in line


def test_a_missing_google_secret_names_it_its_version_and_the_project(
    tmp_path: Path, google: LocalGoogle
) -> None:
    line, _ = error(project(tmp_path / "p", "sqlite:///${gcp-sm:billing-prod/nope#db}"))

    assert (
        "Google Secret Manager has no version latest of the secret 'nope' in project 'billing-prod'"
        in line
    )
    assert "gcloud secrets versions list nope --project billing-prod" in line


def test_google_denying_access_says_which_role_is_needed(
    tmp_path: Path, google: LocalGoogle
) -> None:
    name = google.put({"db": "app.db"})
    google.denied.add(name)
    project_id, secret = name.split("/")

    line, _ = error(project(tmp_path / "p", f"sqlite:///${{gcp-sm:{name}#db}}"))

    assert (
        f"Google denied access to version latest of the secret '{secret}' in project '{project_id}' (PERMISSION_DENIED)"
        in line
    )
    assert "roles/secretmanager.secretAccessor" in line


def test_a_missing_key_lists_the_keys_the_google_secret_has_but_never_their_values(
    tmp_path: Path, google: LocalGoogle
) -> None:
    user, password = fresh("user"), fresh("pw")
    name = google.put({"username": user, "password": password})

    line, result = error(project(tmp_path / "p", f"sqlite:///${{gcp-sm:{name}#db}}"))

    assert "the secret has no key 'db'" in line and "its keys: password, username" in line
    assert user not in result.output and password not in result.output


def test_an_unreachable_google_endpoint_is_named(
    tmp_path: Path, google: LocalGoogle, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv(ENDPOINT, endpoint)

    line, _ = error(project(tmp_path / "p", "sqlite:///${gcp-sm:billing-prod/db#name}"))

    assert f"cannot reach Google Secret Manager at {endpoint} (Connection refused)" in line
    assert ENDPOINT in line


def test_an_unavailable_google_secret_manager_is_asked_again_then_reported(
    tmp_path: Path, google: LocalGoogle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secretstores, "GCP_RETRY_SECONDS", 1.5)
    google.unavailable = True
    root = project(tmp_path / "p", "sqlite:///${gcp-sm:billing-prod/db#name}")

    line = one_line_error(cli(root, "status"))

    assert "Google Secret Manager kept answering UNAVAILABLE for 1.5 s" in line
    assert "The service is currently unavailable." in line and "try again later" in line
    assert len(google.reads) > 1


def test_a_google_payload_that_fails_its_checksum_is_refused(
    tmp_path: Path, google: LocalGoogle
) -> None:
    name = google.put({"db": "app.db"})
    google.damaged = True

    line, _ = error(project(tmp_path / "p", f"sqlite:///${{gcp-sm:{name}#db}}"))

    assert "does not match its checksum" in line


def test_a_disabled_google_secret_version_says_to_name_an_enabled_one(
    tmp_path: Path, google: LocalGoogle
) -> None:
    name = google.put({"db": "app.db"})
    google.disabled.add(name)

    line, _ = error(project(tmp_path / "p", f"sqlite:///${{gcp-sm:{name}#db}}"))

    assert "cannot be read: Secret Version [" in line and "is in DISABLED state" in line
    assert "name an enabled one with @VERSION" in line


def test_any_other_google_error_is_shown_with_its_status(
    tmp_path: Path, google: LocalGoogle
) -> None:
    line, _ = error(project(tmp_path / "p", "sqlite:///${gcp-sm:billing-prod/db.password}"))

    assert line.endswith(
        "Google Secret Manager answered INVALID_ARGUMENT: Invalid resource field value in the request."
    )


def test_a_binary_google_secret_is_refused(tmp_path: Path, google: LocalGoogle) -> None:
    name = google.put(b"\xff\xfe\x00binary")

    line, _ = error(project(tmp_path / "p", f"sqlite:///${{gcp-sm:{name}}}"))

    assert "the secret is binary, not UTF-8 text" in line


def test_a_google_reference_without_a_project_shows_the_expected_form(
    tmp_path: Path, google: LocalGoogle
) -> None:
    line, _ = error(project(tmp_path / "p", "sqlite:///${gcp-sm:db#name}"))

    assert "a Google secret is named PROJECT/SECRET" in line and google.reads == []


# --- a local Azure Key Vault, behind a proxy, with a managed identity ------------------------

VAULT_HOST = "billing-kv.vault.azure.net"


@pytest.fixture(scope="session")
def vault_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A server context for *.vault.azure.net and the CA file that trusts it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                critical=False,
            )
        )
        if ca:
            unused = ("content_commitment", "key_encipherment", "data_encipherment")
            unused += ("key_agreement", "encipher_only", "decipher_only")
            usage = dict.fromkeys(unused, False)
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName("*.vault.azure.net")]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("dbfleet test CA", ca_key, "dbfleet test CA", ca_key, ca=True)
    leaf = certificate(VAULT_HOST, key, "dbfleet test CA", ca_key, ca=False)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context, folder / "ca.pem"


class Proxy(ThreadingTCPServer):
    daemon_threads = True  # a tunnel the client keeps open must not hold up the test's end


class LocalAzure:
    """Key Vault's `GET /secrets/NAME[/VERSION]?api-version=...` with its 401 challenge, a
    managed-identity token endpoint, and the CONNECT proxy in front of the vault."""

    def __init__(self, tls: ssl.SSLContext) -> None:
        self.secrets: dict[str, dict[str, str]] = {}  # name -> version -> value ("" = latest)
        self.denied: set[str] = set()
        self.reads: list[str] = []  # names read with a valid token
        self.tokens_issued: list[str] = []
        self.identity_header = fresh("hdr")
        self.token_refused = False
        self.token_rejected = False  # the vault turns every token away (another tenant's)
        self.challenge_resource = "https://vault.azure.net"
        self.tunnels: list[str] = []  # CONNECT targets the proxy was asked for
        azure = self

        class Vault(Answering):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                segments = [segment for segment in parts.path.split("/") if segment]
                if segments[:1] != ["secrets"] or "api-version" not in parse_qs(parts.query):
                    return self.answer(400, {"error": {"code": "BadParameter", "message": "bad"}})
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if bearer not in azure.tokens_issued or azure.token_rejected:
                    challenge = (
                        'Bearer authorization="https://login.microsoftonline.com/72f988bf", '
                        f'resource="{azure.challenge_resource}"'
                    )
                    return self.answer(
                        401, {"error": {"code": "Unauthorized"}}, {"WWW-Authenticate": challenge}
                    )
                name, version = segments[1], "/".join(segments[2:])
                azure.reads.append(name)
                if not re.fullmatch(r"[0-9a-zA-Z-]+", name):
                    message = "The request URI contains an invalid name: " + name
                    return self.answer(400, {"error": {"code": "BadParameter", "message": message}})
                if name in azure.denied:
                    message = "Caller is not authorized to perform action on resource.\nIf role assignments were recently changed, please wait several minutes."
                    return self.answer(
                        403,
                        {
                            "error": {
                                "code": "Forbidden",
                                "message": message,
                                "innererror": {"code": "ForbiddenByRbac"},
                            }
                        },
                    )
                value = azure.secrets.get(name, {}).get(version)
                if value is None:
                    message = f"A secret with (name/id) {name} was not found in this key vault."
                    return self.answer(
                        404, {"error": {"code": "SecretNotFound", "message": message}}
                    )
                identifier = f"https://{VAULT_HOST}/secrets/{name}/{version or 'f00d'}"
                self.answer(
                    200, {"value": value, "id": identifier, "attributes": {"enabled": True}}
                )

        class Identity(Answering):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if (
                    self.headers.get("X-IDENTITY-HEADER") != azure.identity_header
                    or azure.token_refused
                ):
                    return self.answer(
                        400, {"error": "invalid_request", "error_description": "refused"}
                    )
                token = fresh("eyJ0eXAi")
                azure.tokens_issued.append(token)
                expires = str(int(time.time()) + 3600)
                resource = query.get("resource", [""])[0]
                self.answer(
                    200,
                    {
                        "access_token": token,
                        "expires_on": expires,
                        "resource": resource,
                        "token_type": "Bearer",
                    },
                )

        self.vault = serve(Vault, tls)
        self.identity = serve(Identity)
        vault_address = self.vault.server_address

        class Tunnel(StreamRequestHandler):
            def handle(self) -> None:
                target = self.rfile.readline().decode().split()[1]
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                azure.tunnels.append(target)
                with socket.create_connection(vault_address) as upstream:
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self.wfile.flush()
                    ends = [self.connection, upstream]
                    while True:
                        ready, _, _ = select.select(ends, [], [], 30)
                        for end in ready:
                            data = end.recv(65536)
                            if not data:
                                return
                            (upstream if end is self.connection else self.connection).sendall(data)
                        if not ready:
                            return

        self.proxy = Proxy(("127.0.0.1", 0), Tunnel)
        threading.Thread(target=self.proxy.serve_forever, args=(0.05,), daemon=True).start()

    def put(self, value: str | dict[str, Any], version: str = "") -> str:
        name = fresh("db-")
        self.secrets.setdefault(name, {})[version] = (
            value if isinstance(value, str) else json.dumps(value)
        )
        return name


@pytest.fixture
def azure(
    monkeypatch: pytest.MonkeyPatch, vault_tls: tuple[ssl.SSLContext, Path]
) -> Iterator[LocalAzure]:
    context, ca_file = vault_tls
    server = LocalAzure(context)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{server.proxy.server_address[1]}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    monkeypatch.setenv(
        "IDENTITY_ENDPOINT", f"http://127.0.0.1:{server.identity.server_address[1]}/msi/token"
    )
    monkeypatch.setenv("IDENTITY_HEADER", server.identity_header)
    yield server
    for each in (server.vault, server.identity, server.proxy):
        stop(each)


@pytest.mark.postgres
def test_an_azure_secret_field_as_the_url_password_runs_status_and_migrate_unseen(
    tmp_path: Path, pg_url: str, azure: LocalAzure
) -> None:
    password = fresh("pw#@/%")
    name = azure.put({"username": "postgres", "password": password})
    root = project(
        tmp_path / "p", pg_url_with_password(pg_url, f"${{azure-kv:billing-kv/{name}#password}}")
    )

    status = cli_process(root, "status")
    migrate = cli_process(root, "migrate")

    assert (status.exit_code, migrate.exit_code) == (0, 0), migrate.output
    assert {"invoice", "customer"} <= tables(pg_url)
    assert set(azure.tunnels) == {f"{VAULT_HOST}:443"}, "the vault name became its real URL"
    for result in (status, migrate):
        assert password not in result.output and quote(password, safe="") not in result.output
        assert not any(token in result.output for token in azure.tokens_issued)


def test_a_whole_azure_secret_in_a_placeholder_is_masked_in_a_failing_migrations_error(
    tmp_path: Path, azure: LocalAzure
) -> None:
    token = fresh("plain")
    name = azure.put(token)
    root = project(
        tmp_path / "p",
        "sqlite:///app.db",
        placeholders=f'token = "${{azure-kv:https://{VAULT_HOST}/{name}}}"',
        migrations=MIGRATIONS | {"V3__use.sql": "INSERT INTO missing_${token} VALUES (1);"},
    )

    result = cli(root, "migrate")

    assert result.exit_code == 1
    assert "missing_***" in result.output and token not in result.output


def test_two_keys_of_one_azure_secret_are_one_read_with_one_token(
    tmp_path: Path, azure: LocalAzure
) -> None:
    name = azure.put({"db": "app.db", "owner": fresh("owner")})
    pinned = azure.put("v1.db", version="0123abcd")
    root = project(
        tmp_path / "p",
        f"sqlite:///${{azure-kv:billing-kv/{name}#db}}",
        placeholders=f'owner = "${{azure-kv:billing-kv/{name}#owner}}"\n'
        f'old = "${{azure-kv:billing-kv/{pinned}@0123abcd}}"',
    )

    result = cli(root, "migrate")

    assert result.exit_code == 0, result.output
    assert sorted(azure.reads) == sorted([name, pinned])
    assert len(azure.tokens_issued) == 1
    assert (root / "app.db").exists()


def test_azure_without_the_client_library_says_which_extra_to_install(
    tmp_path: Path, azure: LocalAzure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "azure.keyvault.secrets", None)

    line = one_line_error(
        cli(project(tmp_path / "p", "sqlite:///${azure-kv:billing-kv/db#name}"), "status")
    )

    assert "environments.dev.url uses ${azure-kv:billing-kv/db#name}" in line
    assert "azure-keyvault-secrets package is not installed" in line
    assert "pip install 'dbfleet[azure]'" in line


def test_a_missing_azure_secret_names_it_and_the_vault(tmp_path: Path, azure: LocalAzure) -> None:
    line, _ = error(project(tmp_path / "p", "sqlite:///${azure-kv:billing-kv/nope#db}"))

    assert f"Azure Key Vault https://{VAULT_HOST} has no secret 'nope'" in line


def test_azure_denying_access_says_which_role_is_needed(tmp_path: Path, azure: LocalAzure) -> None:
    name = azure.put({"db": "app.db"})
    azure.denied.add(name)

    line, result = error(project(tmp_path / "p", f"sqlite:///${{azure-kv:billing-kv/{name}#db}}"))

    assert f"Azure denied reading the secret '{name}' in https://{VAULT_HOST} (Forbidden)" in line
    assert "Key Vault Secrets User" in line
    assert not any(token in result.output for token in azure.tokens_issued)


def test_a_missing_key_lists_the_keys_the_azure_secret_has_but_never_their_values(
    tmp_path: Path, azure: LocalAzure
) -> None:
    user, password = fresh("user"), fresh("pw")
    name = azure.put({"username": user, "password": password})

    line, result = error(project(tmp_path / "p", f"sqlite:///${{azure-kv:billing-kv/{name}#db}}"))

    assert "the secret has no key 'db'" in line and "its keys: password, username" in line
    assert user not in result.output and password not in result.output


def test_any_other_key_vault_error_is_shown_with_its_status(
    tmp_path: Path, azure: LocalAzure
) -> None:
    line, _ = error(project(tmp_path / "p", "sqlite:///${azure-kv:billing-kv/db_password}"))

    assert line.endswith(
        f"Azure Key Vault https://{VAULT_HOST} answered 400: "
        "(BadParameter) The request URI contains an invalid name: db_password"
    )


def test_an_unreachable_azure_vault_is_named_by_its_url(tmp_path: Path, azure: LocalAzure) -> None:
    vault = f"https://127.0.0.1:{closed_port()}"

    line, _ = error(project(tmp_path / "p", f"sqlite:///${{azure-kv:{vault}/db#name}}"))

    assert f"cannot reach Azure Key Vault at {vault} (Connection refused)" in line


def test_azure_failing_to_get_a_token_says_which_identity_to_check(
    tmp_path: Path, azure: LocalAzure
) -> None:
    name = azure.put({"db": "app.db"})
    azure.token_refused = True
    root = project(tmp_path / "p", f"sqlite:///${{azure-kv:billing-kv/{name}#db}}")

    line = one_line_error(cli_process(root, "status"))  # in a process: no log lines around it

    assert "Azure could not get a token for Key Vault" in line and "az login" in line
    assert azure.reads == []


def test_azure_key_vault_rejecting_the_token_says_it_may_be_another_tenants(
    tmp_path: Path, azure: LocalAzure
) -> None:
    name = azure.put({"db": "app.db"})
    azure.token_rejected = True

    line, result = error(project(tmp_path / "p", f"sqlite:///${{azure-kv:billing-kv/{name}#db}}"))

    assert f"Key Vault https://{VAULT_HOST} rejected the token (401)" in line and "tenant" in line
    assert not any(token in result.output for token in azure.tokens_issued)


def test_a_key_vault_challenge_for_another_domain_is_refused_before_a_token_is_sent(
    tmp_path: Path, azure: LocalAzure
) -> None:
    name = azure.put({"db": "app.db"})
    azure.challenge_resource = "https://vault.attacker.example"

    line, _ = error(project(tmp_path / "p", f"sqlite:///${{azure-kv:billing-kv/{name}#db}}"))

    assert "The challenge resource 'vault.attacker.example' does not match" in line
    assert azure.tokens_issued == [] and azure.reads == []


def test_google_without_credentials_says_how_to_get_them(
    tmp_path: Path, google: LocalGoogle
) -> None:
    root = project(tmp_path / "p", "sqlite:///${gcp-sm:billing-prod/db#name}")
    nowhere = f"127.0.0.1:{closed_port()}"  # no GCE metadata server either
    env = {ENDPOINT: "https://secretmanager.googleapis.com"}  # an https endpoint: real credentials
    env |= {"GCE_METADATA_HOST": nowhere, "GCE_METADATA_IP": nowhere, "NO_GCE_CHECK": "true"}

    result = cli_process(root, "status", env=env)

    line = one_line_error(result)
    assert "no Google Cloud credentials found" in line
    assert (
        "gcloud auth application-default login" in line and "GOOGLE_APPLICATION_CREDENTIALS" in line
    )
    assert google.reads == []
