"""Secret stores (Vault, AWS/Google Secret Manager, Azure Key Vault): one fetch per secret a run.

Imported only when dbfleet.toml references a store, and each store imports its client library
(hvac, boto3, google-cloud-secret-manager, azure-keyvault-secrets) only when it is used, so plain
commands pay nothing for them.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NoReturn
from urllib.parse import urlsplit

from dbfleet.errors import ConfigError
from dbfleet.secrets import register_secret

SUPPORTED = (
    "${env:VAR}, ${file:PATH}, ${vault:MOUNT/PATH#KEY}, ${aws-sm:NAME#KEY}, "
    "${gcp-sm:PROJECT/SECRET#KEY}, ${azure-kv:VAULT/NAME#KEY}"
)
_TIMEOUT_SECONDS = 10  # a store that does not answer must not hang a deploy for minutes

_lock = threading.RLock()
_fetched: dict[tuple[str, str], Secret] = {}
_clients: dict[tuple[str, ...], Any] = {}


@dataclass(frozen=True)
class Secret:
    """What a store holds at one path: its text (if it is text) and its fields (if it has any)."""

    text: str | None
    fields: Mapping[str, Any] | None


@dataclass(frozen=True)
class Reference:
    """One `${store:PATH#KEY}` in dbfleet.toml, and where it stands (for messages)."""

    store: str
    path: str
    key: str | None
    where: str

    @classmethod
    def parse(cls, store: str, arg: str, where: str) -> Reference:
        path, sep, key = arg.rpartition("#") if "#" in arg else (arg, "", "")
        return cls(store, path.strip(), key.strip() if sep else None, where)

    @property
    def text(self) -> str:
        key = f"#{self.key}" if self.key is not None else ""
        return f"${{{self.store}:{self.path}{key}}}"

    def fail(self, problem: str, hint: str | None = None) -> NoReturn:
        raise ConfigError(f"{self.where} uses {self.text}: {problem}", hint=hint)


def lookup(store: str, arg: str, where: str) -> str:
    """The value `${store:arg}` stands for, fetched once per run and registered as a secret."""
    read = _STORES.get(store)
    if read is None:
        raise ConfigError(
            f"{where} uses ${{{store}:...}}, but '{store}' is not a secret store dbfleet knows",
            hint=f"use one of {SUPPORTED}; write $${{ for a literal ${{",
        )
    reference = Reference.parse(store, arg, where)
    if not reference.path:
        reference.fail("it names no secret")
    if reference.key == "":
        reference.fail("nothing follows the #", hint="name a key after it, or drop the #")
    with _lock:  # held while fetching, so that two threads asking at once cause one fetch
        secret = _fetched.get((store, reference.path))
        if secret is None:
            secret = read(reference)
            _fetched[(store, reference.path)] = secret
    value = _pick(secret, reference)
    register_secret(value)
    return value


def clear_cache() -> None:
    """Forget fetched secrets and logged-in clients (a new run in the same process, tests)."""
    with _lock:
        _fetched.clear()
        _clients.clear()


def _pick(secret: Secret, reference: Reference) -> str:
    key = reference.key
    keys = ", ".join(sorted(secret.fields)) if secret.fields else "none"
    if key is None:
        if secret.text is None:
            reference.fail(
                "it names no key of the secret",
                hint=f"e.g. ${{{reference.store}:{reference.path}#KEY}} (its keys: {keys})",
            )
        return secret.text
    if secret.fields is None:
        reference.fail(
            f"the secret is not a JSON object, so it has no key '{key}'",
            hint=f"drop #{key} to use the whole secret",
        )
    if key not in secret.fields:
        reference.fail(f"the secret has no key '{key}'", hint=f"its keys: {keys}")
    value = secret.fields[key]
    return value if isinstance(value, str) else json.dumps(value)


def _client_library(
    module: str, extra: str, reference: Reference, package: str | None = None
) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        reference.fail(
            f"the {package or module} package is not installed",
            hint=f"pip install 'dbfleet[{extra}]'",
        )


def _text_secret(text: str) -> Secret:
    """A secret stored as text: used whole, or by key when it is a JSON object."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return Secret(text=text, fields=parsed if isinstance(parsed, dict) else None)


def _reason(exc: BaseException) -> str:
    """The OS-level cause of a connection failure ("Connection refused"), not a wall of text."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return found[1].strip() if found else type(exc).__name__


# --- HashiCorp Vault, KV version 2 ------------------------------------------------------------


def _read_vault(reference: Reference) -> Secret:
    hvac = _client_library("hvac", "vault", reference)
    mount, _, path = reference.path.strip("/").partition("/")
    if not path:
        reference.fail(
            "a Vault path starts with its KV mount",
            hint="e.g. ${vault:secret/billing/prod#password} reads billing/prod in mount 'secret'",
        )
    client = _vault_client(hvac, reference)
    answer = _vault_call(
        hvac,
        reference,
        lambda: client.secrets.kv.v2.read_secret_version(
            path=path, mount_point=mount, raise_on_deleted_version=True
        ),
        not_found=(
            f"Vault has no secret '{path}' in the KV mount '{mount}'",
            "check the path (its first segment is the KV v2 mount) with `vault kv get`",
        ),
        denied=(
            f"Vault denied reading {mount}/data/{path} (permission denied)",
            "the token may have expired, or its policies do not allow read on that path",
        ),
    )
    data = (answer or {}).get("data") or {}
    fields = data.get("data")
    if not isinstance(fields, dict):
        reference.fail(
            f"Vault's answer for {mount}/{path} holds no KV v2 data",
            hint=f"is '{mount}' a KV version 2 mount?",
        )
    return Secret(text=None, fields=fields)


def _vault_client(hvac: ModuleType, reference: Reference) -> Any:
    address = os.environ.get("VAULT_ADDR", "").strip()
    if not address:
        reference.fail("VAULT_ADDR is not set", hint="export VAULT_ADDR=https://vault.example:8200")
    namespace = os.environ.get("VAULT_NAMESPACE") or None
    token = os.environ.get("VAULT_TOKEN") or None
    role_id = os.environ.get("VAULT_ROLE_ID") or None
    secret_id = os.environ.get("VAULT_SECRET_ID") or None
    for credential in (token, secret_id):
        register_secret(credential)
    cache_key = ("vault", address, namespace or "", token or "", role_id or "")
    with _lock:
        if cache_key in _clients:
            return _clients[cache_key]
        # Without VAULT_TOKEN, hvac falls back to ~/.vault-token, where `vault login` keeps it.
        client = hvac.Client(
            url=address, token=token, namespace=namespace, timeout=_TIMEOUT_SECONDS
        )
        if token is None and (role_id or secret_id):
            if not (role_id and secret_id):
                missing = "VAULT_SECRET_ID" if role_id else "VAULT_ROLE_ID"
                reference.fail(
                    f"{missing} is not set",
                    hint="AppRole login needs VAULT_ROLE_ID and VAULT_SECRET_ID",
                )
            answer = _vault_call(
                hvac,
                reference,
                lambda: client.auth.approle.login(role_id=role_id, secret_id=secret_id),
                denied=(
                    "Vault refused the AppRole login",
                    "check VAULT_ROLE_ID and VAULT_SECRET_ID (a secret ID can expire)",
                ),
            )
            register_secret(((answer or {}).get("auth") or {}).get("client_token"))
        elif not client.token:
            reference.fail(
                "no Vault credentials",
                hint="export VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole login",
            )
        else:
            register_secret(client.token)
        _clients[cache_key] = client
        return client


def _vault_call(
    hvac: ModuleType,
    reference: Reference,
    call: Callable[[], Any],
    *,
    denied: tuple[str, str],
    not_found: tuple[str, str] | None = None,
) -> Any:
    """Run one Vault request, turning each way it can fail into one line a user can act on."""
    import requests  # hvac's own transport

    errors = hvac.exceptions
    address = os.environ.get("VAULT_ADDR", "")
    try:
        return call()
    except (errors.Forbidden, errors.Unauthorized):
        reference.fail(*denied)
    except errors.InvalidRequest as exc:  # how Vault answers a wrong AppRole role or secret ID
        reference.fail(
            f"{denied[0]}: {', '.join(exc.errors or []) or 'invalid request'}", denied[1]
        )
    except errors.InvalidPath:
        if not_found is None:
            reference.fail(
                f"Vault at {address} has no such endpoint",
                hint="is AppRole enabled at auth/approle?",
            )
        reference.fail(*not_found)
    except errors.VaultDown:
        reference.fail(f"Vault at {address} is sealed or down", hint="unseal it or try again")
    except errors.VaultError as exc:
        reference.fail(
            f"Vault at {address} answered: {', '.join(exc.errors or []) or type(exc).__name__}"
        )
    except requests.exceptions.SSLError:
        reference.fail(
            f"the TLS handshake with Vault at {address} failed",
            hint="set VAULT_CACERT to the CA certificate that signed Vault's",
        )
    except requests.exceptions.RequestException as exc:
        reference.fail(
            f"cannot reach Vault at {address} ({_reason(exc)})",
            hint="check VAULT_ADDR and that Vault is running and reachable",
        )


# --- AWS Secrets Manager ----------------------------------------------------------------------

_AWS_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
}


def _read_aws(reference: Reference) -> Secret:
    boto3 = _client_library("boto3", "aws", reference)
    from botocore.config import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )

    # boto3 reads AWS_DEFAULT_REGION (and the profile) itself; AWS_REGION is what AWS's own
    # runtimes and the newer SDKs set, so it counts too. AWS_ENDPOINT_URL(_SECRETS_MANAGER) and
    # the credentials chain are boto3's own.
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    name = reference.path
    try:
        with _lock:
            cache_key = ("aws-sm", region or "")
            client = _clients.get(cache_key)
            if client is None:
                config = Config(connect_timeout=_TIMEOUT_SECONDS, read_timeout=_TIMEOUT_SECONDS)
                # a session of our own: boto3's default one keeps the credentials it first found
                session = boto3.session.Session(region_name=region)
                client = session.client("secretsmanager", config=config)
                _clients[cache_key] = client
        answer = client.get_secret_value(SecretId=name)
    except NoRegionError:
        reference.fail(
            "no AWS region is set",
            hint="export AWS_REGION=eu-west-1 (your region), or set region in the AWS profile",
        )
    except NoCredentialsError:
        reference.fail(
            "no AWS credentials found",
            hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or an IAM role",
        )
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        endpoint = exc.kwargs.get("endpoint_url", "its endpoint")
        reference.fail(
            f"cannot reach AWS Secrets Manager at {endpoint}",
            hint="check the network, AWS_REGION and AWS_ENDPOINT_URL(_SECRETS_MANAGER) if set",
        )
    except ClientError as exc:
        code, message = _aws_error(exc.response)
        where = f" in {region}" if region else ""
        if code == "ResourceNotFoundException":
            reference.fail(
                f"AWS Secrets Manager has no secret '{name}'{where}",
                hint="check the secret's name or ARN, and AWS_REGION",
            )
        if code in ("AccessDeniedException", "AccessDenied"):
            reference.fail(
                f"AWS denied reading the secret '{name}' (AccessDenied)",
                hint="the IAM identity needs secretsmanager:GetSecretValue on it "
                "(and kms:Decrypt on its key)",
            )
        if code in _AWS_BAD_CREDENTIALS:
            reference.fail(
                f"AWS rejected the credentials ({code})",
                hint="check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN "
                "or AWS_PROFILE; renew an expired session",
            )
        if code == "DecryptionFailure":
            reference.fail(
                f"AWS cannot decrypt the secret '{name}' with its KMS key",
                hint="the IAM identity needs kms:Decrypt on the secret's key",
            )
        reference.fail(f"AWS Secrets Manager answered {code}: {message}")
    except BotoCoreError as exc:
        reference.fail(f"AWS Secrets Manager: {exc}")
    text = answer.get("SecretString")
    if text is None:
        reference.fail(
            "the secret is binary (SecretBinary), not text", hint="store it as a SecretString"
        )
    return _text_secret(text)


def _aws_error(response: Mapping[str, Any]) -> tuple[str, str]:
    """The error code and message of a failed AWS call, as one line.

    An error body that is not the service's JSON (an XML one from IAM checks, an HTML one from a
    proxy) leaves botocore with only the HTTP status as code and the whole body as message.
    """
    error = response.get("Error", {})
    code, message = str(error.get("Code", "?")), str(error.get("Message", ""))
    if code.isdigit():
        found = re.search(r"<Code>([^<]+)</Code>", message)
        text = re.search(r"<Message>([^<]*)</Message>", message)
        code = found[1] if found else f"HTTP {code}"
        message = text[1] if text else re.sub(r"<[^>]*>", " ", message)
    return code, " ".join(message.split())[:300]


GCP_ENDPOINT = "DBFLEET_GCP_SM_ENDPOINT"
GCP_RETRY_SECONDS = 10  # how long an UNAVAILABLE Secret Manager is asked again


def _read_gcp(reference: Reference) -> Secret:
    secretmanager = _client_library(
        "google.cloud.secretmanager", "gcp", reference, package="google-cloud-secret-manager"
    )
    import requests  # the REST transport's own
    from google.api_core import exceptions as api
    from google.api_core.retry import Retry, if_exception_type
    from google.auth import exceptions as auth

    project, secret, version = gcp_secret_name(reference)
    endpoint = os.environ.get(GCP_ENDPOINT, "").strip() or None
    shown = endpoint or "secretmanager.googleapis.com"
    what = f"version {version} of the secret '{secret}' in project '{project}'"
    try:
        client = _gcp_client(secretmanager, endpoint)
        # the library's own retry of UNAVAILABLE and RESOURCE_EXHAUSTED goes on for a minute
        retry = Retry(
            initial=0.5,
            maximum=4,
            predicate=if_exception_type(api.ServiceUnavailable, api.TooManyRequests),
            timeout=GCP_RETRY_SECONDS,
        )
        answer = client.access_secret_version(
            name=f"projects/{project}/secrets/{secret}/versions/{version}",
            retry=retry,
            timeout=_TIMEOUT_SECONDS,
        )
    except auth.DefaultCredentialsError:
        reference.fail(
            "no Google Cloud credentials found",
            hint="run `gcloud auth application-default login`, or set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service account key file",
        )
    except (auth.RefreshError, api.Unauthorized):
        reference.fail(
            "Google rejected the credentials",
            hint="renew them with `gcloud auth application-default login`, or check "
            "GOOGLE_APPLICATION_CREDENTIALS",
        )
    except api.NotFound:
        reference.fail(
            f"Google Secret Manager has no {what}",
            hint=f"check the project ID and the secret's name: "
            f"gcloud secrets versions list {secret} --project {project}",
        )
    except api.Forbidden:
        reference.fail(
            f"Google denied access to {what} (PERMISSION_DENIED)",
            hint="the identity needs roles/secretmanager.secretAccessor on the secret; "
            "Google also answers so for a secret that does not exist",
        )
    except api.GoogleAPICallError as exc:
        status, message = _google_error(exc)
        if status == "FAILED_PRECONDITION":
            reference.fail(
                f"{what} cannot be read: {message}",
                hint="a disabled or destroyed version cannot be read; "
                "name an enabled one with @VERSION",
            )
        reference.fail(f"Google Secret Manager answered {status}: {message}")
    except api.RetryError as exc:
        status, message = (
            _google_error(exc.cause)
            if isinstance(exc.cause, api.GoogleAPICallError)
            else ("no answer", str(exc.cause))
        )
        reference.fail(
            f"Google Secret Manager kept answering {status} for {GCP_RETRY_SECONDS} s: {message}",
            hint="try again later; see https://status.cloud.google.com",
        )
    except (requests.exceptions.RequestException, auth.TransportError) as exc:
        reference.fail(
            f"cannot reach Google Secret Manager at {shown} ({_reason(exc)})",
            hint=f"check the network, and {GCP_ENDPOINT} if set",
        )
    payload = answer.payload
    data = bytes(payload.data)
    if "data_crc32c" in payload and payload.data_crc32c != crc32c(data):
        reference.fail(
            "the secret's payload does not match its checksum (damaged in transit)",
            hint="try again",
        )
    try:
        return _text_secret(data.decode("utf-8"))
    except UnicodeDecodeError:
        reference.fail("the secret is binary, not UTF-8 text", hint="store the value as text")


def _google_error(exc: Any) -> tuple[str, str]:
    """The status ("FAILED_PRECONDITION") and message of a failed call, from Google's JSON error.

    Over REST the client library keys its exception on the HTTP status alone and puts the URL
    before the message, so both are read from the answer itself.
    """
    try:
        error = exc.response.json()["error"]
        return str(error.get("status") or f"HTTP {exc.code}"), _first_line(error["message"])
    except (ValueError, KeyError, TypeError, AttributeError):  # not Google's JSON (a proxy's)
        return f"HTTP {exc.code}", _first_line(exc.message)


def gcp_secret_name(reference: Reference) -> tuple[str, str, str]:
    """(project, secret, version) of `PROJECT/SECRET[@VERSION]` or a full resource name."""
    path = reference.path.strip("/")
    found = re.fullmatch(r"projects/([^/]+)/secrets/([^/]+)(?:/versions/([^/]+))?", path)
    found = found or re.fullmatch(r"([^/@]+)/([^/@]+)(?:@([^/@]+))?", path)
    if not found:
        reference.fail(
            "a Google secret is named PROJECT/SECRET",
            hint="e.g. ${gcp-sm:billing-prod/db#password}; "
            "db@3 reads version 3, the default is latest",
        )
    project, secret, version = found.groups()
    return project, secret, version or "latest"


def _gcp_client(secretmanager: ModuleType, endpoint: str | None) -> Any:
    with _lock:
        cache_key = ("gcp-sm", endpoint or "")
        client = _clients.get(cache_key)
        if client is None:
            credentials = None  # Application Default Credentials
            if endpoint and endpoint.startswith("http://"):
                # a local emulator: never send a real token over plain HTTP
                from google.auth.credentials import AnonymousCredentials

                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            options = {"api_endpoint": endpoint} if endpoint else None
            # REST, not gRPC: an endpoint override and HTTPS_PROXY work as for any HTTP client
            client = secretmanager.SecretManagerServiceClient(
                transport="rest", credentials=credentials, client_options=options
            )
            _clients[cache_key] = client
        return client


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C, the checksum Google sends with a secret's payload (secrets are small)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return " ".join(lines[0].split())[:300] if lines else "no message"


# --- Azure Key Vault ---------------------------------------------------------------------------


def _read_azure(reference: Reference) -> Secret:
    secrets = _client_library(
        "azure.keyvault.secrets", "azure", reference, package="azure-keyvault-secrets"
    )
    identity = _client_library("azure.identity", "azure", reference, package="azure-identity")
    from azure.core import exceptions as errors

    # DefaultAzureCredential logs each way it tried as a warning; with no logging configured
    # Python would print that to stderr, beside the one line that says what to do
    for name in ("azure", "msal"):
        logging.getLogger(name).addHandler(logging.NullHandler())

    vault, name, version = azure_secret_name(reference)
    what = f"secret '{name}'" + (f" (version {version})" if version else "")
    try:
        client = _azure_client(secrets, identity, vault)
        answer = client.get_secret(name, version)
    except errors.ClientAuthenticationError as exc:
        if exc.response is None:  # DefaultAzureCredential found no identity, or it was refused
            reference.fail(
                "Azure could not get a token for Key Vault",
                hint="sign in with `az login`, or set AZURE_TENANT_ID + AZURE_CLIENT_ID + "
                "AZURE_CLIENT_SECRET, or check the managed identity; --debug shows each way tried",
            )
        reference.fail(
            f"Key Vault {vault} rejected the token ({exc.status_code})",
            hint="the identity may belong to another tenant than the vault",
        )
    except errors.ResourceNotFoundError:
        reference.fail(
            f"Azure Key Vault {vault} has no {what}",
            hint="check the secret's name and the vault: "
            f"az keyvault secret list --vault-name {_vault_name(vault)}",
        )
    except errors.HttpResponseError as exc:
        if exc.status_code == 403:
            reference.fail(
                f"Azure denied reading the {what} in {vault} (Forbidden)",
                hint="the identity needs the Key Vault Secrets User role on the vault, or an "
                "access policy allowing Get secrets; a vault firewall also answers so",
            )
        reference.fail(
            f"Azure Key Vault {vault} answered {exc.status_code}: {_first_line(exc.message)}"
        )
    except (errors.ServiceRequestError, errors.ServiceResponseError) as exc:
        reference.fail(
            f"cannot reach Azure Key Vault at {vault} ({_reason(exc)})",
            hint="check the vault's name or URL, the network, and HTTPS_PROXY if one is needed",
        )
    except ValueError as exc:  # a challenge for a resource the vault is not in, a bad URL
        reference.fail(f"Azure Key Vault {vault}: {_first_line(str(exc)).split('. ')[0]}")
    if answer.value is None:
        reference.fail("the secret has no value")
    return _text_secret(answer.value)


def azure_secret_name(reference: Reference) -> tuple[str, str, str | None]:
    """(vault URL, name, version) of `VAULT/NAME[@VERSION]`; VAULT is a name, host or URL.

    A secret identifier as the portal shows it (https://V.vault.azure.net/secrets/NAME/VERSION)
    is taken too.
    """
    path = reference.path.strip().rstrip("/")
    if "://" in path:
        parts = urlsplit(path)
        segments = [segment for segment in parts.path.split("/") if segment]
        if segments[:1] == ["secrets"]:
            segments = segments[1:]
        vault = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        name, version = [*segments, ""][0], "/".join(segments[1:])
    else:
        host, _, name = path.rpartition("/")
        version = ""
        vault = f"https://{host if '.' in host else f'{host}.vault.azure.net'}" if host else ""
    name, _, at = name.partition("@")
    if not vault or not name or "/" in version:
        reference.fail(
            "an Azure Key Vault secret is named VAULT/NAME",
            hint="e.g. ${azure-kv:billing-kv/db#password}; VAULT is the vault's name or URL",
        )
    return vault, name, (version or at or None)


def _vault_name(url: str) -> str:
    return (urlsplit(url).hostname or url).split(".")[0]


def _azure_client(secrets: ModuleType, identity: ModuleType, vault: str) -> Any:
    with _lock:
        credential = _clients.get(("azure-credential",))
        if credential is None:
            credential = identity.DefaultAzureCredential()
            _clients[("azure-credential",)] = credential
        client = _clients.get(("azure-kv", vault))
        if client is None:
            client = secrets.SecretClient(
                vault,
                credential,
                connection_timeout=_TIMEOUT_SECONDS,
                read_timeout=_TIMEOUT_SECONDS,
                retry_total=2,
            )
            _clients[("azure-kv", vault)] = client
        return client


_STORES: dict[str, Callable[[Reference], Secret]] = {
    "vault": _read_vault,
    "aws-sm": _read_aws,
    "gcp-sm": _read_gcp,
    "azure-kv": _read_azure,
}
