"""Secret stores for ${vault:MOUNT/PATH#KEY} and ${aws-sm:NAME#KEY}: one fetch per secret a run.

Imported only when dbfleet.toml references a store, and each store imports its client library
(hvac, boto3) only when it is used, so plain commands pay nothing for them.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NoReturn

from dbfleet.errors import ConfigError
from dbfleet.secrets import register_secret

SUPPORTED = "${env:VAR}, ${file:PATH}, ${vault:MOUNT/PATH#KEY}, ${aws-sm:NAME#KEY}"
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


def _client_library(module: str, extra: str, reference: Reference) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        reference.fail(
            f"the {module} package is not installed", hint=f"pip install 'dbfleet[{extra}]'"
        )


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
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return Secret(text=text, fields=parsed if isinstance(parsed, dict) else None)


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


_STORES: dict[str, Callable[[Reference], Secret]] = {"vault": _read_vault, "aws-sm": _read_aws}
