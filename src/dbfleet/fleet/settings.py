"""A fleet's settings ([environments.NAME.fleet]) resolved and typed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbfleet.dburl import DatabaseUrl
from dbfleet.errors import ConfigError

if TYPE_CHECKING:
    from dbfleet.config import Environment, Project


@dataclass(frozen=True)
class FleetSettings:
    environment: str
    where: str
    root: Path
    template_url: DatabaseUrl
    template_schema: str | None
    mode: str = "database"
    concurrency: int = 4
    per_server_concurrency: int = 8
    max_failures: str = "0"
    waves: tuple[str, ...] = ("100%",)
    tenant_timeout: float | None = None
    init_sql: str | None = None  # run on each tenant's connection first (e.g. SET search_path)
    registry: Mapping[str, Any] = field(default_factory=dict)
    project: Project | None = field(default=None, compare=False, repr=False)

    def resolve(self, value: str, where: str, *, secret: bool = False) -> str:
        assert self.project is not None
        return self.project.resolve(value, where, secret=secret)

    def failure_budget(self, total: int) -> int:
        """How many failures are tolerated; one more stops new tenants from starting."""
        text = self.max_failures.strip()
        if text.endswith("%"):
            return math.floor(float(text[:-1]) / 100 * total)
        return int(text)


def fleet_settings(project: Project, env: Environment) -> FleetSettings:
    """The environment's fleet; an environment without one is a clear error."""
    if env.fleet is None:
        fleets = [n for n, t in project.environments.items() if "fleet" in t]
        raise ConfigError(
            f"{project.source}: environment '{env.name}' has no fleet",
            hint="add [environments."
            + env.name
            + ".fleet] with a registry"
            + (f" (environments with a fleet: {', '.join(fleets)})" if fleets else ""),
        )
    fleet = env.fleet
    where = f"{project.source}: environments.{env.name}.fleet"
    if "registry" not in fleet:
        raise ConfigError(
            f"{where}: 'registry' is missing",
            hint=f"add [environments.{env.name}.fleet.registry] with tenants, file or url",
        )
    mode = fleet.get("mode", "database")
    # The template is the environment's URL (which defaults to fleet.template); in schema mode
    # fleet.template may instead name the template's schema in that database.
    template_schema = None
    if mode == "schema":
        raw = fleet.get("template", "template")
        template_schema = raw if "://" not in raw else env.history_schema
    return FleetSettings(
        environment=env.name,
        where=where,
        root=project.root,
        template_url=env.url,
        template_schema=template_schema,
        mode=mode,
        concurrency=fleet.get("concurrency", 4),
        per_server_concurrency=fleet.get("per_server_concurrency", 8),
        max_failures=fleet.get("max_failures", "0"),
        waves=tuple(fleet.get("waves", ["100%"])),
        tenant_timeout=fleet.get("tenant_timeout"),
        init_sql=fleet.get("init_sql"),
        registry=fleet["registry"],
        project=project,
    )
