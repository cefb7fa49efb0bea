"""Tenant registries: static, CSV and JSON files; each bad row is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbfleet.config import load_project
from dbfleet.errors import ConfigError
from dbfleet.fleet.registry import load_registry
from dbfleet.fleet.settings import fleet_settings


def _settings(tmp_path: Path, fleet: str, files: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    root = tmp_path / "p"
    root.mkdir(exist_ok=True)
    (root / "dbfleet.toml").write_text(
        '[project]\nname = "x"\n\n[environments.prod.fleet]\n'
        'template = "sqlite:///template.db"\n' + fleet,
        encoding="utf-8",
    )
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    project = load_project(root / "dbfleet.toml")
    return fleet_settings(project, project.environment("prod"))


def test_static_tenants_with_enabled_false_skipped(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        "[environments.prod.fleet.registry]\n"
        'tenants = [{ id = "a", url = "sqlite:///a.db" }, '
        '{ id = "b", url = "sqlite:///b.db", enabled = false }]\n',
    )
    registry = load_registry(settings)
    assert [t.id for t in registry.tenants] == ["a"]
    assert registry.skipped == ("b",)
    assert registry.tenants[0].url.database == str(tmp_path / "p" / "a.db")


def test_csv_file_with_groups_and_canaries(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        '[environments.prod.fleet.registry]\nfile = "tenants.csv"\n',
        {"tenants.csv": "id,url,group,canary\na,sqlite:///a.db,eu,yes\nb,sqlite:///b.db,us,\n"},
    )
    tenants = load_registry(settings).tenants
    assert [(t.id, t.group, t.canary) for t in tenants] == [("a", "eu", True), ("b", "us", False)]


def test_json_file(tmp_path: Path) -> None:
    rows = [{"id": "a", "url": "sqlite:///a.db", "enabled": True}]
    settings = _settings(
        tmp_path,
        '[environments.prod.fleet.registry]\nfile = "tenants.json"\n',
        {"tenants.json": json.dumps(rows)},
    )
    assert [t.id for t in load_registry(settings).tenants] == ["a"]


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("id,url\n,sqlite:///a.db\n", "row 1: 'id' is missing"),
        ("id,url\na,\n", "row 1 (tenant 'a'): 'url' is missing"),
        (
            "id,url\na,sqlite:///a.db\na,sqlite:///b.db\n",
            "row 2: tenant id 'a' is already used by row 1",
        ),
        ("id,url\na,oracle://x/y\n", "row 1 (tenant 'a'): unsupported URL scheme"),
        ("id,url,colour\na,sqlite:///a.db,red\n", "unknown column(s) colour"),
        ("id,url,enabled\na,sqlite:///a.db,maybe\n", "enabled = 'maybe' is not true or false"),
        ("id,url\n(template),sqlite:///a.db\n", "'(template)' names the template"),
    ],
)
def test_a_bad_row_is_one_error_naming_the_row(tmp_path: Path, csv: str, message: str) -> None:
    settings = _settings(
        tmp_path, '[environments.prod.fleet.registry]\nfile = "t.csv"\n', {"t.csv": csv}
    )
    with pytest.raises(ConfigError) as caught:
        load_registry(settings)
    assert message in str(caught.value)
    assert "t.csv" in str(caught.value)


def test_a_url_password_never_appears_in_a_row_error(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        '[environments.prod.fleet.registry]\nfile = "t.csv"\n',
        {"t.csv": "id,url\na,postgresql://u:s3cret-pw@db:99999/x\n"},
    )
    with pytest.raises(ConfigError) as caught:
        load_registry(settings)
    assert "s3cret-pw" not in str(caught.value)


def test_unknown_fleet_keys_name_the_file_key_and_allowed_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, "concurency = 3\n")
    text = str(caught.value)
    assert "unknown key 'environments.prod.fleet.concurency'" in text
    assert "did you mean 'environments.prod.fleet.concurrency'" in text
    with pytest.raises(ConfigError, match=r"fleet\.registry\.fil'"):
        _settings(tmp_path, '[environments.prod.fleet.registry]\nfil = "x.csv"\n')


def test_bad_fleet_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='neither "canary" nor a percentage'):
        _settings(tmp_path, 'waves = ["first"]\n')
    with pytest.raises(ConfigError, match="not a count or a percentage"):
        _settings(tmp_path, 'max_failures = "lots"\n')
    with pytest.raises(ConfigError, match="'registry' is missing"):
        _settings(tmp_path, "concurrency = 2\n")


def test_error_budget_as_count_or_percent(tmp_path: Path) -> None:
    reg = "[environments.prod.fleet.registry]\ntenants = []\n"
    assert _settings(tmp_path, 'max_failures = "2%"\n' + reg).failure_budget(200) == 4
    assert _settings(tmp_path, "max_failures = 3\n" + reg).failure_budget(200) == 3
    assert _settings(tmp_path, reg).failure_budget(200) == 0
