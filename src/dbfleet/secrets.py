"""The one place that hides secrets: URL passwords and registered values never reach output."""

from __future__ import annotations

import re
import threading

MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()

# user:password@ inside any URL-looking text, e.g. in a driver's error message. The password
# runs to the URL's last @, so one holding a raw @ or / is masked whole.
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^\s?#]*)(?P<tail>@)", re.I
)
# password=... in key/value connection strings (libpq style).
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def register_secret(value: str | None) -> None:
    """Remember a value (a resolved password, a token) so that `redact` hides it everywhere."""
    if value and len(value) >= 3:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with URL passwords, password=... pairs and registered secrets masked."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + m["tail"], text)
    text = _KV_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, MASK)
    return text
