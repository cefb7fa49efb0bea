"""dbfleet.toml -> typed settings: validation, ${env:X} / ${file:P} references, DBFLEET_* vars."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dbfleet.dburl import DatabaseUrl, parse_url
from dbfleet.errors import ConfigError
from dbfleet.lint.keys import LINT_KEYS
from dbfleet.secrets import register_secret

CONFIG_NAME = "dbfleet.toml"
DEFAULT_HISTORY_TABLE = "dbfleet_schema_history"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# ${env:...}, ${file:...} and any other ${kind:...}: a secret store (dbfleet.secretstores).
_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<kind>[a-z][a-z0-9-]*):(?P<arg>[^}]*)\}")
_DURATION = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h)?\s*$")
# What precedes a reference that stands in a URL's password: "scheme://user:" (no @ or / yet).
_PASSWORD_SLOT = re.compile(r"://[^/@]*:[^/@]*$")


@dataclass(frozen=True)
class Environment:
    """One `[environments.NAME]` table, its references resolved."""

    name: str
    url: DatabaseUrl
    placeholders: Mapping[str, str]
    history_schema: str | None
    history_table: str
    fleet: Mapping[str, Any] | None = None  # [environments.NAME.fleet], validated, unresolved
    # Release policy (checked by `apply` and the pipeline's approval gate): how many approvals
    # of the exact plan it needs, whether its author may approve it, and which environment its
    # migrations must have reached first.
    requires_approval: bool = False
    approvals: int = 1
    approver_not_author: bool = False
    promote_from: str | None = None


@dataclass(frozen=True)
class Project:
    """The settings of one dbfleet project (a dbfleet.toml and the folder it lives in)."""

    root: Path
    config_file: Path | None
    name: str
    default_environment: str | None
    locations: tuple[Path, ...]
    history_table: str = DEFAULT_HISTORY_TABLE
    history_schema: str | None = None
    out_of_order: bool = False
    validate_on_migrate: bool = True
    placeholder_replacement: bool = True
    lock_wait_seconds: float = 600.0
    placeholders: Mapping[str, str] = field(default_factory=dict)
    environments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    engine: str | None = None
    scratch_url: str | None = None
    schema_dir: Path | None = None
    lint: Mapping[str, Any] = field(default_factory=dict)  # [lint], read by dbfleet.lint.settings
    online: bool = False  # [diff] online: diff/generate write online-safe PostgreSQL changes
    lock_timeout_seconds: float = 5.0  # [diff] lock_timeout, the online prologue's
    state_url: str | None = None
    partitions: tuple[Mapping[str, Any], ...] = ()
    pipeline: Mapping[str, Any] = field(
        default_factory=dict
    )  # [pipeline], read by dbfleet.pipeline

    @property
    def source(self) -> str:
        return str(self.config_file) if self.config_file else "command line"

    def engine_name(self) -> str:
        """The project's engine: [project] engine, else that of the default environment's URL."""
        if self.engine:
            return self.engine
        if self.default_environment is not None:
            return self.environment(self.default_environment).url.engine
        raise ConfigError(
            f"{self.source}: cannot tell which engine this project uses",
            hint='set [project] engine = "postgresql" (or sqlite, mysql)',
        )

    def scratch_server(self) -> DatabaseUrl | None:
        """The server on which scratch databases are created ([project] scratch_url), if any."""
        if not self.scratch_url:
            return None
        where = f"{self.source}: project.scratch_url"
        return self._anchored(
            parse_url(self.resolve(self.scratch_url, where, secret=True), where=where)
        )

    def environment(
        self, name: str | None = None, *, url: str | None = None, overrides: bool = True
    ) -> Environment:
        """Resolve the environment to work on: `name`, else DBFLEET_ENV, else the default.

        `url` (from --url) and DBFLEET_URL override the environment's own URL. Only the chosen
        environment's ${env:...} and ${file:...} references are resolved, so a variable that only
        production needs does not have to exist on a developer's machine.
        """
        if overrides:
            name = name or os.environ.get("DBFLEET_ENV") or self.default_environment
            url = url or os.environ.get("DBFLEET_URL")
        else:  # the environment as dbfleet.toml says, whatever this process was told
            name, url = name or self.default_environment, None
        table: Mapping[str, Any] = {}
        if name is not None:
            if name not in self.environments:
                known = ", ".join(sorted(self.environments)) or "none"
                raise ConfigError(
                    f"{self.source}: unknown environment '{name}'",
                    hint=f"defined environments: {known}",
                )
            table = self.environments[name]
        elif url is None:
            raise ConfigError(
                f"{self.source}: no environment chosen",
                hint="pass --env NAME, set [project] default_environment, or pass --url",
            )
        where = f"{self.source}: environments.{name}" if name else "--url"
        raw_url = url if url is not None else table.get("url")
        template = table.get("fleet", {}).get("template", "")
        if raw_url is None and ("://" in template or template.startswith("${")):
            raw_url = template  # a fleet's own URL is its template database's
        if raw_url is None:
            raise ConfigError(f"{where}: 'url' is missing", hint='add url = "..." to it')
        url_origin = "--url/DBFLEET_URL" if url is not None else f"{where}.url"
        resolved_url = self.resolve(str(raw_url), url_origin, secret=True)
        placeholders = {
            key: self.resolve(value, f"{self.source}: placeholders.{key}")
            for key, value in self.placeholders.items()
        }
        for key, value in table.get("placeholders", {}).items():
            placeholders[key] = self.resolve(str(value), f"{where}.placeholders.{key}")
        placeholders.update(_env_placeholders())  # DBFLEET_PLACEHOLDERS_* beat the file
        history_table = os.environ.get("DBFLEET_HISTORY_TABLE") or table.get(
            "history_table", self.history_table
        )
        _check_identifier(
            history_table,
            "DBFLEET_HISTORY_TABLE"
            if os.environ.get("DBFLEET_HISTORY_TABLE")
            else f"{where}.history_table",
        )
        history_schema = os.environ.get("DBFLEET_HISTORY_SCHEMA") or table.get(
            "history_schema", self.history_schema
        )
        parsed = self._anchored(parse_url(resolved_url, where=url_origin))
        if url is not None:
            self._refuse_policy_override(name, table, parsed)
        return Environment(
            name=name or "(url)",
            url=parsed,
            placeholders=placeholders,
            history_schema=history_schema or None,
            history_table=history_table,
            fleet=table.get("fleet"),
            requires_approval=table.get("requires_approval", False),
            approvals=table.get("approvals", 1),
            approver_not_author=table.get("approver_not_author", False),
            promote_from=table.get("promote_from"),
        )

    def _refuse_policy_override(
        self, name: str | None, table: Mapping[str, Any], url: DatabaseUrl
    ) -> None:
        """--url/DBFLEET_URL must not point a command at a database whose environment runs
        approved plans only: not by overriding that environment, nor through another one."""
        if table.get("requires_approval"):
            raise ConfigError(
                f"{self.source}: environments.{name} runs approved plans only "
                "(requires_approval = true): its database comes from dbfleet.toml, "
                "not from --url or DBFLEET_URL",
                hint="unset DBFLEET_URL / drop --url",
            )
        for other, settings in self.environments.items():
            if other == name or not settings.get("requires_approval"):
                continue
            try:
                theirs = self.environment(other, overrides=False).url
            except ConfigError:
                continue  # its URL cannot be known here (a variable not set): nothing to compare
            if (theirs.engine, theirs.host, theirs.port, theirs.database) == (
                url.engine,
                url.host,
                url.port,
                url.database,
            ):
                raise ConfigError(
                    f"--url/DBFLEET_URL names the database of environment {other}, which runs "
                    "approved plans only (requires_approval = true)",
                    hint=f"use --env {other} with a plan: dbfleet plan, approve, apply",
                )

    def _anchored(self, url: DatabaseUrl) -> DatabaseUrl:
        return url.anchored(self.root)

    def resolve(self, value: str, where: str, *, secret: bool = False) -> str:
        """Replace ${env:VAR}, ${file:PATH} and ${STORE:PATH#KEY} in `value`; `$${` is `${`."""

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            kind, arg = match["kind"], match["arg"]
            if kind == "env":
                var, _, default = arg.partition(":-")
                found = os.environ.get(var)
                if found is None and ":-" not in arg:
                    raise ConfigError(
                        f"{where} uses ${{env:{var}}}, but {var} is not set",
                        hint=f"export {var}, or use ${{env:{var}:-default}}",
                    )
                # As in the shell, ${VAR:-default} also replaces a variable that is set but empty.
                result = found if found is not None and (found or ":-" not in arg) else default
            elif kind == "file":
                path = (self.root / arg).resolve() if not os.path.isabs(arg) else Path(arg)
                try:
                    result = path.read_text(encoding="utf-8").rstrip("\r\n")
                except OSError as exc:
                    raise ConfigError(
                        f"{where} uses ${{file:{arg}}}, which cannot be read: {exc.strerror}"
                    ) from None
                except UnicodeDecodeError:
                    raise ConfigError(
                        f"{where} uses ${{file:{arg}}}, which is not UTF-8 text",
                        hint="save it as UTF-8",
                    ) from None
            else:  # a secret store; whatever it returns is masked in all output
                from dbfleet.secretstores import lookup

                result = lookup(kind, arg, where)
                if secret and _PASSWORD_SLOT.search(value, 0, match.start()):
                    # generated passwords often hold @ / # %, which would break the URL
                    result = quote(result, safe="")
            # Only a URL's password is secret: masking its user, host or database name would
            # garble every message that mentions them.
            if secret and _PASSWORD_SLOT.search(value, 0, match.start()):
                register_secret(result)
            return result

        return _REFERENCE.sub(substitute, value)


# --- loading and validation -------------------------------------------------------------------

Check = Callable[[Any, str], Any]


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, not {_kind(value)}")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def _string_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a string or a list of strings")
    return value


def _identifier(value: Any, where: str) -> str:
    return _check_identifier(_string(value, where), where)


def _check_identifier(value: str, where: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ConfigError(
            f"{where}: '{value}' is not a valid table name",
            hint="use letters, digits and underscores, starting with a letter or underscore",
        )
    return value


def duration_seconds(value: Any, where: str) -> float:
    """`600`, `"90s"`, `"10m"`, `"1h"`, `"250ms"` -> seconds."""
    if isinstance(value, bool):
        raise ConfigError(f'{where} must be a duration like "10m" or a number of seconds')
    if isinstance(value, int | float):
        if value < 0:
            raise ConfigError(f"{where} must not be negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(
            f"{where}: '{value}' is not a duration", hint='use e.g. "250ms", "30s", "10m" or "1h"'
        )
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match["unit"]]
    return float(match["n"]) * factor


def _engine(value: Any, where: str) -> str:
    from dbfleet.dburl import SCHEMES

    name = SCHEMES.get(_string(value, where).lower())
    if name is None:
        raise ConfigError(
            f"{where}: '{value}' is not an engine", hint="use postgresql, sqlite or mysql"
        )
    return name


def _placeholder_table(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of name = value")
    result = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            raise ConfigError(f"{where}.{key} must be a string, number or boolean")
        result[key] = str(item).lower() if isinstance(item, bool) else str(item)
    return result


SECTIONS: dict[str, dict[str, Check]] = {
    "project": {
        "name": _string,
        "default_environment": _string,
        "engine": _engine,
        "scratch_url": _string,
        "schema_dir": _string,
        "state_url": _string,
    },
    "migrations": {
        "locations": _string_list,
        "history_table": _identifier,
        "history_schema": _string,
        "out_of_order": _boolean,
        "validate_on_migrate": _boolean,
        "placeholder_replacement": _boolean,
        "lock_wait": duration_seconds,
    },
    "lint": LINT_KEYS,
    "diff": {
        "online": _boolean,  # PostgreSQL: CONCURRENTLY, NOT VALID + VALIDATE, lock_timeout
        "lock_timeout": duration_seconds,
    },
}


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a whole number of at least 1, not {value!r}")
    return value


def _count_or_percent(value: Any, where: str) -> str:
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not re.fullmatch(r"\d+(\.\d+)?%|\d+", text):
        raise ConfigError(
            f"{where}: {value!r} is not a count or a percentage", hint='e.g. 3 or "2%"'
        )
    return text


def _waves(value: Any, where: str) -> list[str]:
    waves = _string_list(value, where)
    for wave in waves:
        if wave != "canary" and not re.fullmatch(r"\d+(\.\d+)?%", wave.strip()):
            raise ConfigError(
                f"{where}: wave '{wave}' is neither \"canary\" nor a percentage",
                hint='e.g. waves = ["canary", "10%", "100%"]',
            )
    return waves


def _choice(*allowed: str) -> Check:
    def check(value: Any, where: str) -> str:
        if value not in allowed:
            raise ConfigError(f"{where}: {value!r} is not one of " + ", ".join(allowed))
        return str(value)

    return check


def _tenant_list(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f'{where} must be a list of tables like {{ id = "acme", url = "..." }}')
    return value


def _table(keys: dict[str, Check]) -> Check:
    """A nested table whose keys are checked like a section's (unknown key -> allowed keys)."""

    def check(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table")
        file, _, path = where.rpartition(": ")
        result = {}
        for key, item in value.items():
            if key not in keys:
                raise _unknown(file, f"{path}.{key}", list(keys), prefix=f"{path}.")
            result[key] = keys[key](item, f"{where}.{key}")
        return result

    return check


REGISTRY_KEYS: dict[str, Check] = {
    "tenants": _tenant_list,
    "file": _string,
    "url": _string,
    "query": _string,
}
FLEET_KEYS: dict[str, Check] = {
    "template": _string,
    "mode": _choice("database", "schema"),
    "concurrency": _positive_int,
    "per_server_concurrency": _positive_int,
    "max_failures": _count_or_percent,
    "waves": _waves,
    "tenant_timeout": duration_seconds,
    "init_sql": _string,
    "registry": _table(REGISTRY_KEYS),
}
PARTITION_KEYS: dict[str, Check] = {
    "table": _string,
    "schema": _string,
    "column": _string,
    "interval": _choice("1 day", "1 week", "1 month"),
    "premake": _positive_int,
    "retention": _string,
    "retention_action": _choice("detach", "drop"),
}
ENVIRONMENT_KEYS: dict[str, Check] = {
    "fleet": _table(FLEET_KEYS),
    "url": _string,
    "description": _string,
    "placeholders": _placeholder_table,
    "history_table": _identifier,
    "history_schema": _string,
    "requires_approval": _boolean,
    "approvals": _positive_int,
    "approver_not_author": _boolean,
    "promote_from": _string,
}


def find_config(start: Path) -> Path | None:
    """The nearest dbfleet.toml in `start` or one of its parents."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_project(config_file: Path | None = None, *, start: Path | None = None) -> Project:
    """Load and validate a project; with no file, the nearest dbfleet.toml above `start`."""
    env_config = os.environ.get("DBFLEET_CONFIG")
    if config_file is None and env_config:
        config_file = Path(env_config)
    if config_file is None:
        config_file = find_config(start or Path.cwd())
    if config_file is None:
        return _bare_project(start or Path.cwd())
    if config_file.is_dir():
        config_file = config_file / CONFIG_NAME
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8-sig"))  # Notepad adds a BOM
    except FileNotFoundError:
        raise ConfigError(
            f"{config_file}: no such file", hint="run `dbfleet init` to create a project"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{config_file}: not UTF-8 text", hint="save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file}: invalid TOML: {exc}") from None
    return _project_from(data, config_file)


def _bare_project(root: Path) -> Project:
    """A project with no dbfleet.toml: everything comes from the command line and DBFLEET_*."""
    locations = os.environ.get("DBFLEET_LOCATIONS")
    return Project(
        root=root.resolve(),
        config_file=None,
        name=root.resolve().name,
        default_environment=None,
        locations=tuple(
            (root / p).resolve()
            for p in (locations.split(os.pathsep) if locations else ["migrations"])
        ),
        placeholders=_env_placeholders(),
    )


def _project_from(data: dict[str, Any], config_file: Path) -> Project:
    name = str(config_file)
    values: dict[str, dict[str, Any]] = {}
    for section, content in data.items():
        if section in ("placeholders", "environments", "partitions", "pipeline"):
            continue
        if section not in SECTIONS:
            raise _unknown(
                name, section, [*SECTIONS, "placeholders", "environments", "partitions", "pipeline"]
            )
        if not isinstance(content, dict):
            raise ConfigError(f"{name}: '{section}' must be a table ([{section}])")
        values[section] = {}
        for key, value in content.items():
            checks = SECTIONS[section]
            if key not in checks:
                raise _unknown(name, f"{section}.{key}", list(checks), prefix=f"{section}.")
            values[section][key] = checks[key](value, f"{name}: {section}.{key}")
    placeholders = _placeholder_table(data.get("placeholders", {}), f"{name}: placeholders")
    environments = data.get("environments", {})
    if not isinstance(environments, dict):
        raise ConfigError(f"{name}: 'environments' must hold tables like [environments.dev]")
    checked_envs: dict[str, dict[str, Any]] = {}
    for env_name, table in environments.items():
        where = f"{name}: environments.{env_name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table ([environments.{env_name}])")
        checked_envs[env_name] = {}
        for key, value in table.items():
            if key not in ENVIRONMENT_KEYS:
                raise _unknown(
                    name,
                    f"environments.{env_name}.{key}",
                    list(ENVIRONMENT_KEYS),
                    prefix=f"environments.{env_name}.",
                )
            checked_envs[env_name][key] = ENVIRONMENT_KEYS[key](value, f"{where}.{key}")
    partitions = _partitions(data.get("partitions", []), name)
    pipeline = data.get("pipeline", {})
    if not isinstance(pipeline, dict):
        raise ConfigError(f"{name}: 'pipeline' must be a table ([pipeline])")
    for env_name, table in checked_envs.items():
        source_env = table.get("promote_from")
        if source_env is not None and source_env not in checked_envs:
            raise ConfigError(
                f"{name}: environments.{env_name}.promote_from names '{source_env}', "
                "which is not defined",
                hint=f"defined environments: {', '.join(sorted(checked_envs))}",
            )
        if source_env == env_name:
            raise ConfigError(
                f"{name}: environments.{env_name}.promote_from cannot name itself",
                hint="name the environment its migrations must reach first, e.g. staging",
            )
    project = values.get("project", {})
    migrations = values.get("migrations", {})
    default_env = project.get("default_environment")
    if default_env is not None and default_env not in checked_envs:
        raise ConfigError(
            f"{name}: project.default_environment names '{default_env}', which is not defined",
            hint=f"add [environments.{default_env}] or fix the name",
        )
    if default_env is None and len(checked_envs) == 1:
        default_env = next(iter(checked_envs))
    root = config_file.resolve().parent
    env_locations = os.environ.get("DBFLEET_LOCATIONS")
    locations = (
        env_locations.split(os.pathsep)
        if env_locations
        else migrations.get("locations", ["migrations"])
    )
    return Project(
        root=root,
        config_file=config_file,
        name=project.get("name", root.name),
        default_environment=default_env,
        locations=tuple((root / p).resolve() for p in locations),
        history_table=migrations.get("history_table", DEFAULT_HISTORY_TABLE),
        history_schema=migrations.get("history_schema"),
        out_of_order=migrations.get("out_of_order", False),
        validate_on_migrate=migrations.get("validate_on_migrate", True),
        placeholder_replacement=migrations.get("placeholder_replacement", True),
        lock_wait_seconds=migrations.get("lock_wait", 600.0),
        placeholders={**placeholders, **_env_placeholders()},
        environments=checked_envs,
        engine=project.get("engine"),
        scratch_url=project.get("scratch_url"),
        schema_dir=(root / project.get("schema_dir", "schema")).resolve(),
        lint=values.get("lint", {}),
        online=values.get("diff", {}).get("online", False),
        lock_timeout_seconds=values.get("diff", {}).get("lock_timeout", 5.0),
        state_url=project.get("state_url"),
        partitions=partitions,
        pipeline=pipeline,
    )


def _partitions(value: Any, file: str) -> tuple[dict[str, Any], ...]:
    """[[partitions]] tables: each names a range-partitioned table to keep in shape."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{file}: 'partitions' must be tables like [[partitions]]")
    result = []
    for index, table in enumerate(value, 1):
        where = f"{file}: partitions[{index}]"
        checked = _table(PARTITION_KEYS)(table, where)
        for required in ("table", "column", "interval"):
            if required not in checked:
                raise ConfigError(f"{where}: '{required}' is missing", hint=f"add {required} = ...")
        result.append(checked)
    return tuple(result)


def _env_placeholders() -> dict[str, str]:
    """DBFLEET_PLACEHOLDERS_NAME=value sets placeholder ${name}."""
    prefix = "DBFLEET_PLACEHOLDERS_"
    return {k[len(prefix) :].lower(): v for k, v in os.environ.items() if k.startswith(prefix)}


def _unknown(file: str, key: str, allowed: list[str], prefix: str = "") -> ConfigError:
    last = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(last, allowed, n=1)
    hint = f"did you mean '{prefix}{close[0]}'? " if close else ""
    return ConfigError(f"{file}: unknown key '{key}'", hint=hint + "allowed: " + ", ".join(allowed))


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
