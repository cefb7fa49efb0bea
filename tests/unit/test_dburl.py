"""Database URLs: what each form means; a bad one is reported without its password."""

from __future__ import annotations

import uuid

import pytest

from dbfleet.dburl import DatabaseUrl, parse_url
from dbfleet.errors import UrlError
from dbfleet.secrets import MASK


@pytest.fixture
def password() -> str:
    """A password no other test has seen, so masking cannot pass by accident."""
    return f"pw{uuid.uuid4().hex[:10]}"


# --- what a URL means -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "engine", "scheme", "user", "host", "port", "database"),
    [
        (
            "postgresql://app@db.example.com:5433/shop",
            "postgresql",
            "postgresql",
            "app",
            "db.example.com",
            5433,
            "shop",
        ),
        (
            "postgres://app@localhost/shop",
            "postgresql",
            "postgres",
            "app",
            "localhost",
            None,
            "shop",
        ),
        ("mysql://root@127.0.0.1:3306/shop", "mysql", "mysql", "root", "127.0.0.1", 3306, "shop"),
        ("mariadb://root@db/shop", "mysql", "mariadb", "root", "db", None, "shop"),
        ("postgresql://db/shop", "postgresql", "postgresql", None, "db", None, "shop"),
    ],
)
def test_server_urls_name_engine_user_host_port_and_database(
    text: str,
    engine: str,
    scheme: str,
    user: str | None,
    host: str,
    port: int | None,
    database: str,
) -> None:
    url = parse_url(text)

    assert (url.engine, url.scheme, url.user, url.host, url.port, url.database) == (
        engine,
        scheme,
        user,
        host,
        port,
        database,
    )
    assert url.password is None


def test_a_driver_suffix_is_accepted_and_dropped() -> None:
    url = parse_url("postgresql+psycopg://app@db/shop")

    assert url.engine == "postgresql"
    assert url.display == "postgresql://app@db/shop"


def test_the_scheme_is_case_insensitive() -> None:
    assert parse_url("PostgreSQL://app@db/shop").engine == "postgresql"


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_url("  mysql://app@db/shop\n").database == "shop"


def test_percent_encoded_user_and_password_are_decoded_and_encoded_again_in_full() -> None:
    url = parse_url("postgresql://us%40er:p%40ss%2Fw%3Ard@db/shop")

    assert url.user == "us@er"
    assert url.password == "p@ss/w:rd"
    assert parse_url(url.full) == url


def test_a_percent_encoded_database_name_is_decoded() -> None:
    assert parse_url("postgresql://db/my%20shop").database == "my shop"


def test_query_parameters_are_kept_in_order_and_can_be_looked_up() -> None:
    url = parse_url("postgresql://app@db/shop?sslmode=require&application_name=deploy")

    assert url.params == (("sslmode", "require"), ("application_name", "deploy"))
    assert url.param("sslmode") == "require"
    assert url.param("connect_timeout") is None
    assert url.display == "postgresql://app@db/shop?sslmode=require&application_name=deploy"


def test_an_ipv6_host_keeps_its_brackets_when_the_url_is_written_back() -> None:
    url = parse_url("postgresql://app@[::1]:5432/shop")

    assert url.host == "::1"
    assert url.port == 5432
    assert url.full == "postgresql://app@[::1]:5432/shop"
    assert parse_url(url.full) == url


@pytest.mark.parametrize(
    ("text", "database"),
    [
        ("sqlite:///app.db", "app.db"),
        ("sqlite:///data/app.db", "data/app.db"),
        ("sqlite:////var/lib/app.db", "/var/lib/app.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls_name_a_relative_or_absolute_file_or_memory(text: str, database: str) -> None:
    url = parse_url(text)

    assert url.engine == "sqlite"
    assert url.database == database
    assert url.display == text
    assert url.full == text


# --- showing a URL ----------------------------------------------------------------------------


def test_display_masks_the_password_and_full_keeps_it(password: str) -> None:
    url = parse_url(f"postgresql://app:{password}@db:5432/shop")

    assert url.display == f"postgresql://app:{MASK}@db:5432/shop"
    assert url.full == f"postgresql://app:{password}@db:5432/shop"


def test_str_and_repr_of_a_url_never_show_the_password(password: str) -> None:
    url = parse_url(f"mysql://app:{password}@db/shop")

    assert str(url) == url.display
    assert password not in str(url)
    assert password not in repr(url)
    assert password not in f"{url}"


def test_a_url_without_password_displays_without_a_mask() -> None:
    assert parse_url("postgresql://app@db/shop").display == "postgresql://app@db/shop"


def test_with_database_keeps_server_and_credentials(password: str) -> None:
    url = parse_url(f"postgresql://app:{password}@db:5433/shop?sslmode=require")

    other = url.with_database("shop_test")

    assert other.database == "shop_test"
    assert (other.user, other.password, other.host, other.port, other.params) == (
        url.user,
        url.password,
        url.host,
        url.port,
        url.params,
    )
    assert other.full == f"postgresql://app:{password}@db:5433/shop_test?sslmode=require"
    assert url.database == "shop"  # the original is unchanged


def test_with_database_on_sqlite_names_another_file() -> None:
    assert parse_url("sqlite:///app.db").with_database("other.db").display == "sqlite:///other.db"


# --- malformed URLs ---------------------------------------------------------------------------


def _error(text: str, where: str = "database URL") -> str:
    with pytest.raises(UrlError) as caught:
        parse_url(text, where=where)
    message = str(caught.value)
    assert "\n" not in message, "an error is one line"
    assert message.startswith(where)
    return message


def test_a_url_without_scheme_is_rejected_with_examples_and_its_password_masked(
    password: str,
) -> None:
    message = _error(f"app:{password}@db/shop")

    assert "is not a database URL" in message
    assert "postgresql://" in message
    assert password not in message
    assert MASK in message


def test_an_unknown_scheme_names_it_and_lists_the_supported_ones(password: str) -> None:
    message = _error(f"oracle://app:{password}@db/shop")

    assert "unsupported URL scheme 'oracle://'" in message
    assert "postgresql://, mysql://, mariadb:// or sqlite:///" in message
    assert password not in message


def test_a_port_that_is_not_a_number_is_rejected_with_the_password_masked(password: str) -> None:
    message = _error(f"postgresql://app:{password}@db:abc/shop")

    assert "malformed URL" in message
    assert "the port must be a number from 0 to 65535" in message
    assert password not in message
    assert f"postgresql://app:{MASK}@db:abc/shop" in message


def test_a_raw_slash_in_a_password_is_never_shown_and_the_fix_is_percent_encoding(
    password: str,
) -> None:
    first, second = password, password[::-1]

    message = _error(f"postgresql://app:{first}/{second}@db/shop")

    assert first not in message
    assert second not in message
    assert "percent-encode" in message


def test_a_password_containing_a_raw_at_sign_is_masked_entirely(password: str) -> None:
    secret = f"{password}@x{password[::-1]}"

    message = _error(f"postgresql://app:{secret}@db:abc/shop")

    assert password not in message
    assert password[::-1] not in message


def test_a_port_out_of_range_is_rejected() -> None:
    assert "from 0 to 65535" in _error("mysql://app@db:99999/shop")


def test_a_url_without_database_says_where_to_add_it(password: str) -> None:
    where = "dbfleet.toml: environments.dev.url"

    message = _error(f"postgresql://app:{password}@db:5432", where=where)

    assert "names no database" in message
    assert "postgresql://host/mydb" in message
    assert password not in message


@pytest.mark.parametrize("text", ["sqlite://app.db", "sqlite:app.db"])
def test_a_sqlite_url_with_too_few_slashes_shows_the_right_form(text: str) -> None:
    message = _error(text)

    assert "sqlite:///relative/path.db" in message or "sqlite:///" in message


def test_a_sqlite_url_without_a_file_is_rejected() -> None:
    assert "names no file" in _error("sqlite:///")


def test_a_url_error_is_a_config_error() -> None:
    from dbfleet.errors import ConfigError

    assert issubclass(UrlError, ConfigError)


def test_a_database_url_can_be_built_directly_and_masks_its_password(password: str) -> None:
    url = DatabaseUrl("postgresql", "postgresql", "app", password, "db", 5432, "shop")

    assert url.display == f"postgresql://app:{MASK}@db:5432/shop"
