"""Where a fleet's tenants come from: a static list, a CSV/JSON file, or an admin database query."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbfleet.dburl import DatabaseUrl, parse_url
from dbfleet.errors import ConfigError, DbfleetError
from dbfleet.fleet.settings import FleetSettings

_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off", ""}
TEMPLATE = "(template)"


@dataclass(frozen=True)
class Tenant:
    """One tenant: its own database (database mode) or its own schema (schema mode)."""

    id: str
    url: DatabaseUrl
    schema: str | None = None
    group: str | None = None
    canary: bool = False

    @property
    def server(self) -> str:
        """What per_server_concurrency counts against: host and port (one SQLite 'server')."""
        return self.url.server

    @property
    def label(self) -> str:
        return self.id


@dataclass(frozen=True)
class Registry:
    """The enabled tenants in registry order, and the ids of the disabled ones."""

    tenants: tuple[Tenant, ...]
    skipped: tuple[str, ...]


def load_registry(settings: FleetSettings) -> Registry:
    """Read and validate every row; a bad row is one error naming its source and row."""
    source, rows = _rows(settings)
    tenants: list[Tenant] = []
    skipped: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        where = f"{source} row {number}"
        tenant, enabled = _tenant(row, where, settings)
        if tenant.id in seen:
            raise ConfigError(
                f"{where}: tenant id '{tenant.id}' is already used by row {seen[tenant.id]}",
                hint="tenant ids must be unique",
            )
        seen[tenant.id] = number
        if enabled:
            tenants.append(tenant)
        else:
            skipped.append(tenant.id)
    return Registry(tuple(tenants), tuple(skipped))


def _rows(settings: FleetSettings) -> tuple[str, Sequence[Mapping[str, Any]]]:
    registry = settings.registry
    where = f"{settings.where}.registry"
    given = [k for k in ("tenants", "file", "url") if k in registry]
    if len(given) != 1:
        raise ConfigError(
            f"{where}: give exactly one of tenants, file or url "
            f"(found {', '.join(given) or 'none'})",
            hint='e.g. file = "tenants.csv", or url = "..." with query = "select id, url from ..."',
        )
    if "tenants" in registry:
        return f"{where}.tenants", list(registry["tenants"])
    if "file" in registry:
        path = settings.root / settings.resolve(registry["file"], f"{where}.file")
        return str(path), _read_file(path)
    if "query" not in registry:
        raise ConfigError(f"{where}: 'url' needs a 'query'", hint="select id, url from tenants")
    url = parse_url(settings.resolve(registry["url"], f"{where}.url", secret=True), where=where)
    return f"registry query on {url.display}", _query(url, registry["query"])


def _read_file(path: Path) -> Sequence[Mapping[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"tenant registry {path}: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: invalid JSON: {exc}") from None
        if isinstance(data, dict) and isinstance(data.get("tenants"), list):
            data = data["tenants"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ConfigError(
                f'{path}: expected a list of objects like {{"id": "acme", "url": "..."}}'
            )
        return data
    if path.suffix.lower() != ".csv":
        raise ConfigError(
            f"tenant registry {path}: unknown format", hint="use a .csv or .json file"
        )
    return [
        {(k or "").strip(): v for k, v in row.items()} for row in csv.DictReader(text.splitlines())
    ]


def _query(url: DatabaseUrl, sql: str) -> list[dict[str, Any]]:
    from dbfleet.engines import connect
    from dbfleet.engines.base import StatementError

    with connect(url, create=False) as conn:
        try:
            return conn.records(sql)
        except StatementError as exc:
            raise DbfleetError(
                f"the tenant registry query on {url.display} failed: {exc.message}",
                hint="check [environments.X.fleet.registry] query",
            ) from None


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(row: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = row.get(key)
    if value is None:
        return default
    if isinstance(value, bool | int):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False if text else default
    raise ConfigError(f"{where}: {key} = {value!r} is not true or false")


def _tenant(row: Mapping[str, Any], where: str, settings: FleetSettings) -> tuple[Tenant, bool]:
    unknown = set(row) - {"id", "url", "schema", "group", "enabled", "canary"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown column(s) {', '.join(sorted(unknown))}",
            hint="allowed: id, url, schema, group, enabled, canary",
        )
    tenant_id = _text(row, "id")
    if tenant_id is None:
        raise ConfigError(f"{where}: 'id' is missing", hint="every tenant needs a unique id")
    if tenant_id == TEMPLATE:
        raise ConfigError(f"{where}: '{TEMPLATE}' names the template", hint="rename the tenant")
    where = f"{where} (tenant '{tenant_id}')"
    schema = _text(row, "schema")
    raw_url = _text(row, "url")
    if settings.mode == "schema":
        url = settings.template_url
        if raw_url is not None:
            url = _parse(raw_url, where, settings)
        schema = schema or tenant_id
    else:
        if raw_url is None:
            raise ConfigError(f"{where}: 'url' is missing", hint="give the tenant database's URL")
        url = _parse(raw_url, where, settings)
    return (
        Tenant(
            id=tenant_id,
            url=url,
            schema=schema,
            group=_text(row, "group"),
            canary=_flag(row, "canary", False, where),
        ),
        _flag(row, "enabled", True, where),
    )


def _parse(raw: str, where: str, settings: FleetSettings) -> DatabaseUrl:
    return parse_url(settings.resolve(raw, f"{where}.url", secret=True), where=where).anchored(
        settings.root
    )


def select_tenants(
    tenants: Iterable[Tenant], *, ids: Iterable[str] = (), group: str | None = None
) -> list[Tenant]:
    """The tenants named by --tenant (all when none) and in --group (all when None)."""
    wanted = list(ids)
    chosen = list(tenants)
    known = {t.id for t in chosen}
    missing = [i for i in wanted if i not in known]
    if missing:
        raise ConfigError(
            "--tenant: no enabled tenant with id " + ", ".join(repr(m) for m in missing),
            hint="`dbfleet fleet status` lists the tenants",
        )
    if wanted:
        chosen = [t for t in chosen if t.id in set(wanted)]
    if group is not None:
        chosen = [t for t in chosen if t.group == group]
    return chosen
