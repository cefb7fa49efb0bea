"""redact(): the one place that hides passwords before anything reaches the terminal or a log."""

from __future__ import annotations

import uuid

import pytest

from dbfleet.secrets import MASK, redact, register_secret


def fresh(prefix: str = "s") -> str:
    """A value no other test has registered, so results cannot depend on test order."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "mysql", "mariadb", "postgresql+psycopg"]
)
def test_the_password_of_a_url_in_any_text_is_masked(scheme: str) -> None:
    password = fresh()

    text = f"could not connect to {scheme}://app:{password}@db:5432/shop: timeout"

    assert redact(text) == f"could not connect to {scheme}://app:{MASK}@db:5432/shop: timeout"


def test_every_url_in_a_text_is_masked() -> None:
    first, second = fresh(), fresh()

    text = f"copy mysql://a:{first}@one/x to postgresql://b:{second}@two/y"

    assert redact(text) == f"copy mysql://a:{MASK}@one/x to postgresql://b:{MASK}@two/y"


def test_a_url_password_containing_a_raw_at_sign_is_masked_entirely() -> None:
    left, right = fresh(), fresh()

    masked = redact(f"postgresql://app:{left}@{right}@db/shop")

    assert masked == f"postgresql://app:{MASK}@db/shop"


def test_a_url_password_containing_a_raw_slash_is_masked_entirely() -> None:
    left, right = fresh(), fresh()

    masked = redact(f"cannot parse postgresql://app:{left}/{right}@db/shop today")

    assert masked == f"cannot parse postgresql://app:{MASK}@db/shop today"


def test_a_url_with_a_user_but_no_password_is_unchanged() -> None:
    text = "applied 3 migrations to postgresql://app@db:5432/shop"

    assert redact(text) == text


@pytest.mark.parametrize(
    ("pair", "masked"),
    [
        ("password=PW", f"password={MASK}"),
        ("password = PW", f"password = {MASK}"),
        ("PASSWORD=PW", f"PASSWORD={MASK}"),
        ("password='PW with spaces'", f"password={MASK}"),
    ],
)
def test_password_pairs_in_connection_strings_are_masked(pair: str, masked: str) -> None:
    password = fresh()

    text = f"host=db {pair.replace('PW', password)} user=app"

    assert redact(text) == f"host=db {masked} user=app"


def test_a_registered_secret_is_masked_wherever_it_appears() -> None:
    token = fresh("tok")
    register_secret(token)

    assert redact(f"header {token} and again:{token}.") == f"header {MASK} and again:{MASK}."


def test_the_longest_registered_secret_is_masked_first() -> None:
    short = fresh("key")
    long = short + "-rotated"
    register_secret(short)
    register_secret(long)

    assert redact(f"using {long}") == f"using {MASK}"


@pytest.mark.parametrize("value", [None, "", "ab"])
def test_empty_and_very_short_values_are_not_registered_so_ordinary_text_survives(
    value: str | None,
) -> None:
    register_secret(value)

    assert redact("a b abc ab") == "a b abc ab"


@pytest.mark.parametrize(
    "text",
    [
        "applied V3 add_orders (12 ms) to sqlite:///app.db",
        "see http://example.com:8080/docs for the manual",
        "email me at ops@example.com",
        "time: 12:30:45",
        "",
    ],
)
def test_text_without_secrets_is_left_unchanged(text: str) -> None:
    assert redact(text) == text
