"""Database URLs: parse and validate them, and show them without their password."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from dbfleet.errors import UrlError
from dbfleet.secrets import MASK, register_secret

# Scheme -> engine name. Engines are looked up by name in dbfleet.engines.
SCHEMES = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
}


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL. `str()` of it never shows the password."""

    engine: str
    scheme: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    database: str = ""
    params: tuple[tuple[str, str], ...] = ()

    @property
    def display(self) -> str:
        """The URL as it is safe to print: the password replaced by ***."""
        return self._render(MASK if self.password else None)

    @property
    def full(self) -> str:
        """The URL with its password, for handing to a driver only."""
        return self._render(self.password)

    def _render(self, password: str | None) -> str:
        if self.engine == "sqlite":
            return f"sqlite:///{self.database}"
        auth = ""
        if self.user is not None:
            auth = quote(self.user, safe="")
            if password is not None:
                auth += ":" + (password if password == MASK else quote(password, safe=""))
            auth += "@"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host or ""  # IPv6
        if self.port is not None:
            host += f":{self.port}"
        query = "&".join(f"{k}={quote(v, safe='/')}" for k, v in self.params)
        return f"{self.scheme}://{auth}{host}/{quote(self.database, safe='')}" + (
            f"?{query}" if query else ""
        )

    @property
    def is_file(self) -> bool:
        """A database that is a file (SQLite) rather than one on a server."""
        return self.engine == "sqlite" and self.database != ":memory:"

    @property
    def server(self) -> str:
        """The server the database lives on (one name for all file databases): what per-server
        connection caps count against."""
        if self.engine == "sqlite":
            return "sqlite"
        return f"{self.engine}://{self.host or 'localhost'}:{self.port or ''}"

    def anchored(self, root: str | os.PathLike[str]) -> DatabaseUrl:
        """A file database named by a relative path means relative to `root` (the project),
        wherever dbfleet runs from; any other URL is returned as it is."""
        if not self.is_file or os.path.isabs(self.database):
            return self
        return self.with_database(os.path.join(root, self.database))

    def file_missing(self) -> bool:
        """A file database whose file does not exist (yet)."""
        return self.is_file and not os.path.exists(self.database)

    def with_database(self, database: str) -> DatabaseUrl:
        """The same server and credentials, another database (or SQLite file)."""
        return DatabaseUrl(
            self.engine,
            self.scheme,
            self.user,
            self.password,
            self.host,
            self.port,
            database,
            self.params,
        )

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)

    def __str__(self) -> str:
        return self.display


def parse_url(text: str, *, where: str = "database URL") -> DatabaseUrl:
    """Parse `text`; `where` names its origin (e.g. "dbfleet.toml: environments.dev.url")."""
    text = text.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise UrlError(
            f"{where}: '{_safe(text)}' is not a database URL",
            hint="expected e.g. postgresql://user@host:5432/db, mysql://user@host/db "
            "or sqlite:///path/to/file.db",
        )
    scheme = scheme.lower().split("+", 1)[0]  # accept driver suffixes like postgresql+psycopg
    engine = SCHEMES.get(scheme)
    if engine is None:
        raise UrlError(
            f"{where}: unsupported URL scheme '{scheme}://'",
            hint="use postgresql://, mysql://, mariadb:// or sqlite:///",
        )
    if engine == "sqlite":
        return _parse_sqlite(rest, scheme, where)
    try:
        parts = urlsplit(f"{scheme}://{rest}")
    except ValueError as exc:
        raise UrlError(f"{where}: malformed URL '{_safe(text)}': {exc}") from None
    try:
        port = parts.port
    except ValueError:  # its message quotes the "port", often a cut-off raw password
        raise UrlError(
            f"{where}: malformed URL '{_safe(text)}': the port must be a number from 0 to 65535",
            hint="percent-encode : / @ ? # in the user name or password, e.g. / as %2F",
        ) from None
    password = unquote(parts.password) if parts.password is not None else None
    register_secret(password)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise UrlError(
            f"{where}: the URL '{_safe(text)}' names no database",
            hint=f"add it after the host, e.g. {scheme}://host/mydb",
        )
    return DatabaseUrl(
        engine=engine,
        scheme=scheme,
        user=unquote(parts.username) if parts.username is not None else None,
        password=password,
        host=parts.hostname or None,
        port=port,
        database=database,
        params=tuple(parse_qsl(parts.query, keep_blank_values=True)),
    )


def _parse_sqlite(rest: str, scheme: str, where: str) -> DatabaseUrl:
    # sqlite:///relative.db, sqlite:////abs/path.db, sqlite:///:memory:
    if not rest.startswith("/"):
        raise UrlError(
            f"{where}: malformed SQLite URL 'sqlite://{rest}'",
            hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db",
        )
    path = rest[1:].split("?", 1)[0]
    if not path:
        raise UrlError(f"{where}: the SQLite URL names no file", hint="e.g. sqlite:///app.db")
    return DatabaseUrl(engine="sqlite", scheme=scheme, database=path)


def _safe(text: str) -> str:
    """A URL fragment as it may appear in an error: its password masked."""
    from dbfleet.secrets import redact

    if "://" not in text:  # "user:password@host/db" lacks the scheme redact's URL pattern needs
        return redact(f"x://{text}").removeprefix("x://")
    return redact(text)
