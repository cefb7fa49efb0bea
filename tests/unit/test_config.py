"""dbfleet.toml: defaults, validation, ${env:...}/${file:...} references and DBFLEET_* overrides."""

from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path

import pytest

from dbfleet.config import (
    CONFIG_NAME,
    DEFAULT_HISTORY_TABLE,
    Project,
    duration_seconds,
    find_config,
    load_project,
)
from dbfleet.errors import ConfigError, UrlError
from dbfleet.secrets import MASK


@pytest.fixture(autouse=True)
def no_dbfleet_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without DBFLEET_* variables from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("DBFLEET_"):
            monkeypatch.delenv(name)


def write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Project:
    return load_project(write_config(tmp_path, text))


def load_error(tmp_path: Path, text: str) -> str:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    message = str(caught.value)
    assert str(path) in message, "a config error names the file"
    assert "\n" not in message, "a config error is one line"
    return message


def unique(prefix: str) -> str:
    """A value (password, variable name) no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# --- defaults ---------------------------------------------------------------------------------


def test_an_empty_config_file_gives_the_defaults(tmp_path: Path) -> None:
    project = load(tmp_path / "shop", "")

    assert project.root == (tmp_path / "shop").resolve()
    assert project.config_file == tmp_path / "shop" / CONFIG_NAME
    assert project.source == str(tmp_path / "shop" / CONFIG_NAME)
    assert project.name == "shop"
    assert project.locations == ((tmp_path / "shop" / "migrations").resolve(),)
    assert project.history_table == DEFAULT_HISTORY_TABLE == "dbfleet_schema_history"
    assert project.history_schema is None
    assert project.out_of_order is False
    assert project.validate_on_migrate is True
    assert project.placeholder_replacement is True
    assert project.lock_wait_seconds == 600.0
    assert project.placeholders == {}
    assert project.environments == {}
    assert project.default_environment is None


def test_without_a_config_file_the_project_comes_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "scratch"
    folder.mkdir()

    project = load_project(start=folder)

    assert project.config_file is None
    assert project.source == "command line"
    assert project.name == "scratch"
    assert project.locations == ((folder / "migrations").resolve(),)
    env = project.environment(url="sqlite:///app.db")
    assert env.name == "(url)"
    assert env.url.database.endswith("/app.db")  # relative paths are anchored at the project


def test_a_config_file_that_does_not_exist_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path / CONFIG_NAME)

    assert f"{tmp_path / CONFIG_NAME}: no such file" in str(caught.value)
    assert "dbfleet init" in str(caught.value)


def test_a_folder_given_as_config_means_the_dbfleet_toml_inside(tmp_path: Path) -> None:
    write_config(tmp_path, '[project]\nname = "inside"\n')

    assert load_project(tmp_path).name == "inside"


# --- parsing ----------------------------------------------------------------------------------


def test_project_and_migrations_sections_are_read(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        """
        [project]
        name = "shop"
        default_environment = "dev"

        [migrations]
        locations = ["db/core", "db/extra"]
        history_table = "schema_history"
        history_schema = "meta"
        out_of_order = true
        validate_on_migrate = false
        placeholder_replacement = false
        lock_wait = "90s"

        [environments.dev]
        url = "sqlite:///dev.db"
    """,
    )

    assert project.name == "shop"
    assert project.default_environment == "dev"
    assert project.locations == (
        (tmp_path / "db/core").resolve(),
        (tmp_path / "db/extra").resolve(),
    )
    assert project.history_table == "schema_history"
    assert project.history_schema == "meta"
    assert project.out_of_order is True
    assert project.validate_on_migrate is False
    assert project.placeholder_replacement is False
    assert project.lock_wait_seconds == 90.0


def test_a_single_location_may_be_a_string(tmp_path: Path) -> None:
    project = load(tmp_path, '[migrations]\nlocations = "sql"\n')

    assert project.locations == ((tmp_path / "sql").resolve(),)


def test_locations_are_relative_to_the_config_file_not_the_working_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path / "project", '[migrations]\nlocations = ["sql"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    assert load_project(config).locations == ((tmp_path / "project" / "sql").resolve(),)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ('"250ms"', 0.25),
        ('"30s"', 30.0),
        ('"10m"', 600.0),
        ('"1h"', 3600.0),
        ('"1.5m"', 90.0),
        ('"45"', 45.0),
        ("45", 45.0),
        ("2.5", 2.5),
    ],
)
def test_lock_wait_takes_a_duration_or_a_number_of_seconds(
    tmp_path: Path,
    value: str,
    seconds: float,
) -> None:
    assert load(tmp_path, f"[migrations]\nlock_wait = {value}\n").lock_wait_seconds == seconds


def test_placeholders_may_be_strings_numbers_or_booleans(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        """
        [placeholders]
        owner = "deploy"
        retention_days = 30
        audit = true
    """,
    )

    assert project.placeholders == {"owner": "deploy", "retention_days": "30", "audit": "true"}


def test_an_environment_has_its_url_placeholders_and_history_settings(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        """
        [migrations]
        history_table = "project_history"

        [placeholders]
        owner = "deploy"
        region = "eu"

        [environments.dev]
        url = "postgresql://app@localhost:5432/shop_dev"
        description = "a laptop"
        history_table = "dev_history"
        history_schema = "meta"

        [environments.dev.placeholders]
        region = "local"
        debug = true
    """,
    )

    env = project.environment("dev")

    assert env.name == "dev"
    assert (env.url.engine, env.url.host, env.url.port, env.url.database) == (
        "postgresql",
        "localhost",
        5432,
        "shop_dev",
    )
    assert env.placeholders == {"owner": "deploy", "region": "local", "debug": "true"}
    assert env.history_table == "dev_history"
    assert env.history_schema == "meta"


def test_an_environment_inherits_the_project_history_table_and_schema(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        """
        [migrations]
        history_table = "project_history"
        history_schema = "meta"

        [environments.dev]
        url = "sqlite:///dev.db"
    """,
    )

    env = project.environment("dev")

    assert (env.history_table, env.history_schema) == ("project_history", "meta")


def test_an_environment_without_url_says_how_to_add_it(tmp_path: Path) -> None:
    project = load(tmp_path, '[environments.dev]\ndescription = "no url"\n')

    with pytest.raises(ConfigError) as caught:
        project.environment("dev")

    assert "environments.dev: 'url' is missing" in str(caught.value)
    assert 'url = "..."' in str(caught.value)


def test_an_environment_with_a_bad_url_says_which_environment(tmp_path: Path) -> None:
    project = load(tmp_path, '[environments.dev]\nurl = "oracle://db/shop"\n')

    with pytest.raises(UrlError) as caught:
        project.environment("dev")

    assert "environments.dev.url" in str(caught.value)
    assert "unsupported URL scheme 'oracle://'" in str(caught.value)


# --- unknown names ----------------------------------------------------------------------------


def test_unknown_section_names_file_and_section_and_suggests_the_close_one(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[migration]\nlocations = ["sql"]\n')

    assert "unknown key 'migration'" in message
    assert "did you mean 'migrations'?" in message


def test_unknown_key_names_file_key_and_suggests_the_close_one(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[migrations]\nlocaitons = ["sql"]\n')

    assert "unknown key 'migrations.locaitons'" in message
    assert "did you mean 'migrations.locations'?" in message


def test_unknown_key_in_environment_names_file_key_and_suggests_the_close_one(
    tmp_path: Path,
) -> None:
    message = load_error(tmp_path, '[environments.prod]\nulr = "sqlite:///x.db"\n')

    assert "unknown key 'environments.prod.ulr'" in message
    assert "did you mean 'environments.prod.url'?" in message


def test_unknown_key_without_a_close_one_lists_the_allowed_keys(tmp_path: Path) -> None:
    message = load_error(tmp_path, "[project]\nxyzzy = 1\n")

    assert "unknown key 'project.xyzzy'" in message
    assert "did you mean" not in message
    assert "allowed: name, default_environment" in message


# --- wrong types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[migrations]\nout_of_order = "yes"\n',
            "migrations.out_of_order must be true or false, not 'yes'",
        ),
        (
            "[migrations]\nlocations = 3\n",
            "migrations.locations must be a string or a list of strings",
        ),
        ('[migrations]\nlocations = ["a", 3]\n', "migrations.locations must be a string or a list"),
        ('[migrations]\nlock_wait = "soon"\n', "migrations.lock_wait: 'soon' is not a duration"),
        ("[migrations]\nlock_wait = true\n", "migrations.lock_wait must be a duration"),
        ("[project]\nname = 7\n", "project.name must be a string, not a number"),
        ('[project]\nname = ["a"]\n', "project.name must be a string, not a list"),
        ("migrations = 3\n", "'migrations' must be a table ([migrations])"),
        ('environments = "dev"\n', "'environments' must hold tables like [environments.dev]"),
        ('[environments]\ndev = "sqlite:///x.db"\n', "environments.dev must be a table"),
        ("[environments.dev]\nurl = 5\n", "environments.dev.url must be a string, not a number"),
        ("placeholders = 1\n", "placeholders must be a table of name = value"),
        ("[placeholders]\nlist = [1]\n", "placeholders.list must be a string, number or boolean"),
        (
            "[environments.dev.placeholders]\nx = {a = 1}\n",
            "environments.dev.placeholders.x must be a string, number or boolean",
        ),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key_and_what_it_must_be(
    tmp_path: Path,
    text: str,
    expected: str,
) -> None:
    assert expected in load_error(tmp_path, text)


def test_lock_wait_duration_error_shows_examples() -> None:
    with pytest.raises(ConfigError) as caught:
        duration_seconds("5 minutes", "lock_wait")

    assert '"250ms", "30s", "10m" or "1h"' in str(caught.value)


@pytest.mark.parametrize("name", ["my-table", "1history", "history table", "a" * 64, ""])
def test_an_invalid_history_table_name_is_rejected_with_the_rule(tmp_path: Path, name: str) -> None:
    message = load_error(tmp_path, f'[migrations]\nhistory_table = "{name}"\n')

    assert f"migrations.history_table: '{name}' is not a valid table name" in message
    assert "letters, digits and underscores" in message


def test_an_invalid_history_table_in_an_environment_is_rejected(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        """
        [environments.dev]
        url = "sqlite:///x.db"
        history_table = "dev.history"
    """,
    )

    assert "environments.dev.history_table: 'dev.history' is not a valid table name" in message


# --- unreadable files -------------------------------------------------------------------------


def test_invalid_toml_reports_the_line_and_column(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[project]\nname = "shop"\nlocations = \n')

    assert "invalid TOML" in message
    assert "line 3, column 13" in message


def test_a_config_that_is_not_utf8_says_so_and_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_bytes('[project]\nname = "café"\n'.encode("latin-1"))

    with pytest.raises(ConfigError) as caught:
        load_project(path)

    assert f"{path}: not UTF-8 text" in str(caught.value)
    assert "save it as UTF-8" in str(caught.value)


def test_a_config_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_bytes('\ufeff[project]\nname = "café"\n'.encode())

    assert load_project(path).name == "café"


# --- choosing an environment ------------------------------------------------------------------


def test_default_environment_naming_an_undefined_one_is_an_error(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        """
        [project]
        default_environment = "staging"

        [environments.dev]
        url = "sqlite:///dev.db"
    """,
    )

    assert "project.default_environment names 'staging', which is not defined" in message
    assert "add [environments.staging] or fix the name" in message


def test_a_single_environment_becomes_the_default(tmp_path: Path) -> None:
    project = load(tmp_path, '[environments.dev]\nurl = "sqlite:///dev.db"\n')

    assert project.default_environment == "dev"
    assert project.environment().name == "dev"


def test_with_several_environments_and_no_default_one_must_be_chosen(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        """
        [environments.dev]
        url = "sqlite:///dev.db"

        [environments.test]
        url = "sqlite:///test.db"
    """,
    )

    assert project.default_environment is None
    with pytest.raises(ConfigError) as caught:
        project.environment()
    assert "no environment chosen" in str(caught.value)
    assert "--env NAME" in str(caught.value)
    assert project.environment("test").url.database.endswith("/test.db")


def test_an_unknown_environment_lists_the_defined_ones(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        """
        [environments.dev]
        url = "sqlite:///dev.db"

        [environments.prod]
        url = "sqlite:///prod.db"
    """,
    )

    with pytest.raises(ConfigError) as caught:
        project.environment("staging")

    assert "unknown environment 'staging'" in str(caught.value)
    assert "defined environments: dev, prod" in str(caught.value)


# --- ${env:...} and ${file:...} references ----------------------------------------------------


def test_env_references_are_replaced_by_the_variables_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_DB_NAME", "shop_ci")
    project = load(tmp_path, '[environments.ci]\nurl = "postgresql://app@db/${env:SHOP_DB_NAME}"\n')

    assert project.environment("ci").url.database == "shop_ci"


def test_env_references_with_a_default_use_it_only_when_the_variable_is_unset(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHOP_DB_FILE", raising=False)
    project = load(tmp_path, '[environments.dev]\nurl = "sqlite:///${env:SHOP_DB_FILE:-dev.db}"\n')

    assert project.environment("dev").url.database.endswith("/dev.db")

    monkeypatch.setenv("SHOP_DB_FILE", "other.db")
    assert project.environment("dev").url.database.endswith("/other.db")


def test_env_references_work_in_environment_placeholders(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_OWNER", "ci_owner")
    project = load(
        tmp_path,
        """
        [environments.ci]
        url = "sqlite:///ci.db"
        placeholders = { owner = "${env:SHOP_OWNER}", region = "${env:SHOP_REGION_UNSET:-eu}" }
    """,
    )

    assert project.environment("ci").placeholders == {"owner": "ci_owner", "region": "eu"}


def test_file_references_read_the_file_relative_to_the_project_without_trailing_newline(
    tmp_path: Path,
) -> None:
    password = unique("pw")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "db_password").write_text(f"{password}\n", encoding="utf-8")
    project = load(
        tmp_path,
        """
        [environments.prod]
        url = "postgresql://app:${file:secrets/db_password}@db/shop"
    """,
    )

    assert project.environment("prod").url.password == password


def test_an_unreadable_file_reference_names_the_reference_and_the_reason(tmp_path: Path) -> None:
    project = load(
        tmp_path, '[environments.prod]\nurl = "postgresql://app:${file:nope.txt}@db/shop"\n'
    )

    with pytest.raises(ConfigError) as caught:
        project.environment("prod")

    assert "environments.prod.url uses ${file:nope.txt}, which cannot be read" in str(caught.value)
    assert "No such file" in str(caught.value)


def test_a_doubled_dollar_keeps_a_literal_reference(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        """
        [environments.dev]
        url = "sqlite:///dev.db"
        placeholders = { greeting = "$${env:HOME} stays", both = "$${x} and ${env:SHOP_UNSET:-y}" }
    """,
    )

    assert project.environment("dev").placeholders == {
        "greeting": "${env:HOME} stays",
        "both": "${x} and y",
    }


def test_a_missing_variable_names_it_and_where_it_is_used(tmp_path: Path) -> None:
    variable = unique("SHOP_PW_")
    project = load(
        tmp_path,
        f"""
        [environments.prod]
        url = "postgresql://app:${{env:{variable}}}@db/shop"
    """,
    )

    with pytest.raises(ConfigError) as caught:
        project.environment("prod")

    message = str(caught.value)
    assert f"environments.prod.url uses ${{env:{variable}}}, but {variable} is not set" in message
    assert f"export {variable}" in message


def test_a_missing_variable_only_matters_for_the_environment_that_uses_it(tmp_path: Path) -> None:
    variable = unique("SHOP_PROD_PW_")
    project = load(
        tmp_path,
        f"""
        [project]
        default_environment = "dev"

        [environments.dev]
        url = "sqlite:///dev.db"

        [environments.prod]
        url = "postgresql://app:${{env:{variable}}}@db/shop"

        [environments.prod.placeholders]
        owner = "${{env:{variable}_OWNER}}"
    """,
    )

    assert project.environment("dev").url.database.endswith("/dev.db")
    assert project.environment().name == "dev"
    with pytest.raises(ConfigError, match=variable):
        project.environment("prod")


# --- DBFLEET_* overrides ----------------------------------------------------------------------

TWO_ENVIRONMENTS = """
    [project]
    default_environment = "dev"

    [environments.dev]
    url = "sqlite:///dev.db"

    [environments.test]
    url = "sqlite:///test.db"
"""


def test_dbfleet_env_chooses_the_environment_unless_one_is_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = load(tmp_path, TWO_ENVIRONMENTS)
    monkeypatch.setenv("DBFLEET_ENV", "test")

    assert project.environment().name == "test"
    assert project.environment("dev").name == "dev"


def test_dbfleet_env_naming_an_unknown_environment_is_an_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = load(tmp_path, TWO_ENVIRONMENTS)
    monkeypatch.setenv("DBFLEET_ENV", "prod")

    with pytest.raises(ConfigError, match="unknown environment 'prod'"):
        project.environment()


def test_dbfleet_url_replaces_the_environments_url_and_a_url_argument_beats_both(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = load(tmp_path, TWO_ENVIRONMENTS)
    monkeypatch.setenv("DBFLEET_URL", "sqlite:///from_env.db")

    assert project.environment("dev").url.database.endswith("/from_env.db")
    assert project.environment("dev", url="sqlite:///from_flag.db").url.database.endswith(
        "/from_flag.db"
    )


def test_dbfleet_url_alone_is_enough_without_any_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = load(tmp_path, "")
    monkeypatch.setenv("DBFLEET_URL", "mysql://app@db/shop")

    env = project.environment()

    assert env.name == "(url)"
    assert env.url.engine == "mysql"


def test_a_bad_dbfleet_url_says_where_it_came_from(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = load(tmp_path, TWO_ENVIRONMENTS)
    monkeypatch.setenv("DBFLEET_URL", "db.example.com/shop")

    with pytest.raises(UrlError, match="--url/DBFLEET_URL"):
        project.environment("dev")


def test_dbfleet_history_table_overrides_the_config(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = load(
        tmp_path,
        """
        [migrations]
        history_table = "project_history"

        [environments.dev]
        url = "sqlite:///dev.db"
        history_table = "dev_history"
    """,
    )
    monkeypatch.setenv("DBFLEET_HISTORY_TABLE", "ci_history")

    assert project.environment("dev").history_table == "ci_history"


def test_an_invalid_dbfleet_history_table_is_blamed_on_the_variable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = load(tmp_path, TWO_ENVIRONMENTS)
    monkeypatch.setenv("DBFLEET_HISTORY_TABLE", "ci-history")

    with pytest.raises(ConfigError) as caught:
        project.environment("dev")

    assert "DBFLEET_HISTORY_TABLE: 'ci-history' is not a valid table name" in str(caught.value)


def test_dbfleet_locations_overrides_the_config_with_a_path_list(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBFLEET_LOCATIONS", os.pathsep.join(["ci/sql", "ci/more"]))

    project = load(tmp_path, '[migrations]\nlocations = ["sql"]\n')

    assert project.locations == ((tmp_path / "ci/sql").resolve(), (tmp_path / "ci/more").resolve())


def test_dbfleet_locations_applies_without_a_config_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBFLEET_LOCATIONS", "db")

    assert load_project(start=tmp_path).locations == ((tmp_path / "db").resolve(),)


def test_dbfleet_placeholders_variables_set_and_override_placeholders(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBFLEET_PLACEHOLDERS_OWNER", "ci_owner")
    monkeypatch.setenv("DBFLEET_PLACEHOLDERS_BUILD_ID", "1234")

    project = load(
        tmp_path,
        """
        [placeholders]
        owner = "deploy"
        region = "eu"

        [environments.dev]
        url = "sqlite:///dev.db"
    """,
    )

    assert project.placeholders == {"owner": "ci_owner", "region": "eu", "build_id": "1234"}
    assert project.environment("dev").placeholders == project.placeholders


def test_dbfleet_placeholders_variables_override_an_environments_placeholders_too(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBFLEET_PLACEHOLDERS_REGION", "ci")

    project = load(
        tmp_path,
        """
        [environments.dev]
        url = "sqlite:///dev.db"
        placeholders = { region = "local" }
    """,
    )

    assert project.environment("dev").placeholders == {"region": "ci"}


def test_dbfleet_config_names_the_config_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path / "conf", '[project]\nname = "from_variable"\n')
    monkeypatch.setenv("DBFLEET_CONFIG", str(config))

    assert load_project(start=tmp_path).name == "from_variable"


# --- finding dbfleet.toml ---------------------------------------------------------------------


def test_find_config_walks_up_to_the_nearest_dbfleet_toml(tmp_path: Path) -> None:
    outer = write_config(tmp_path, "")
    inner = write_config(tmp_path / "service", "")
    deep = tmp_path / "service" / "db" / "migrations"
    deep.mkdir(parents=True)

    assert find_config(deep) == inner.resolve()
    assert find_config(tmp_path / "service") == inner.resolve()
    assert find_config(tmp_path) == outer.resolve()


def test_load_project_uses_the_config_found_above_the_start_folder(tmp_path: Path) -> None:
    write_config(tmp_path, '[project]\nname = "above"\n')
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)

    project = load_project(start=start)

    assert project.name == "above"
    assert project.root == tmp_path.resolve()


def test_find_config_ignores_a_folder_named_like_the_config(tmp_path: Path) -> None:
    (tmp_path / "inner" / CONFIG_NAME).mkdir(parents=True)
    outer = write_config(tmp_path, "")

    assert find_config(tmp_path / "inner") == outer.resolve()


# --- passwords stay secret --------------------------------------------------------------------


def test_a_password_from_an_env_reference_never_shows_in_the_environments_url(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = unique("pw")
    monkeypatch.setenv("SHOP_DB_PASSWORD", password)
    project = load(
        tmp_path,
        """
        [environments.prod]
        url = "postgresql://app:${env:SHOP_DB_PASSWORD}@db.example.com:5432/shop"
    """,
    )

    env = project.environment("prod")

    assert env.url.password == password
    assert env.url.display == f"postgresql://app:{MASK}@db.example.com:5432/shop"
    assert password not in str(env.url)
    assert password not in repr(env)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:${env:SHOP_DB_PASSWORD}@db.example.com:abc/shop",
        "postgresql://app:${env:SHOP_DB_PASSWORD}@db.example.com:5432",
        "app:${env:SHOP_DB_PASSWORD}@db.example.com/shop",
    ],
)
def test_a_password_from_an_env_reference_never_shows_in_a_url_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    password = unique("pw")
    monkeypatch.setenv("SHOP_DB_PASSWORD", password)
    project = load(tmp_path, f'[environments.prod]\nurl = "{url}"\n')

    with pytest.raises(UrlError) as caught:
        project.environment("prod")

    assert "environments.prod.url" in str(caught.value)
    assert password not in str(caught.value)


def test_only_the_password_of_a_url_built_from_references_is_treated_as_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dbfleet.secrets import redact

    password, user, host, database = unique("pw"), unique("u"), unique("h"), unique("d")
    monkeypatch.setenv("SHOP_DB_USER", user)
    monkeypatch.setenv("SHOP_DB_PASSWORD", password)
    monkeypatch.setenv("SHOP_DB_HOST", host)
    monkeypatch.setenv("SHOP_DB_NAME", database)
    project = load(
        tmp_path,
        """
        [environments.prod]
        url = "postgresql://${env:SHOP_DB_USER}:${env:SHOP_DB_PASSWORD}@${env:SHOP_DB_HOST}/${env:SHOP_DB_NAME}"
    """,
    )

    env = project.environment("prod")

    assert redact(f"applied 3 migrations to {database} on {host} as {user}; {password}") == (
        f"applied 3 migrations to {database} on {host} as {user}; {MASK}"
    )
    assert redact(env.url.display) == f"postgresql://{user}:{MASK}@{host}/{database}"


def test_a_password_with_url_special_characters_never_shows_in_the_resulting_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = unique("pw") + "/" + unique("pw")
    monkeypatch.setenv("SHOP_DB_PASSWORD", password)
    project = load(
        tmp_path,
        """
        [environments.prod]
        url = "postgresql://app:${env:SHOP_DB_PASSWORD}@db/shop"
    """,
    )

    with pytest.raises(UrlError) as caught:
        project.environment("prod")

    for part in password.split("/"):
        assert part not in str(caught.value)


def test_a_file_reference_to_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    (tmp_path / "owner.txt").write_bytes(b"caf\xe9\n")
    project = load(
        tmp_path,
        """
        [environments.dev]
        url = "sqlite:///dev.db"
        placeholders = { owner = "${file:owner.txt}" }
    """,
    )

    with pytest.raises(ConfigError) as caught:
        project.environment("dev")

    assert "environments.dev.placeholders.owner uses ${file:owner.txt}" in str(caught.value)
    assert "UTF-8" in str(caught.value)


def test_relative_sqlite_path_is_relative_to_the_project_not_the_working_directory(
    tmp_path, monkeypatch
):
    project_dir = tmp_path / "proj"
    project_dir.mkdir()
    (project_dir / "dbfleet.toml").write_text('[environments.dev]\nurl = "sqlite:///data/dev.db"\n')
    monkeypatch.chdir(tmp_path)
    env = load_project(project_dir / "dbfleet.toml").environment()
    assert env.url.database == str(project_dir.resolve() / "data" / "dev.db")
