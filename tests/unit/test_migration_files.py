"""The migration folder: names, versions, checksums and ${placeholders} of V/U/R scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbfleet.errors import MigrationFileError
from dbfleet.migrate.files import Kind, MigrationSet, Version, checksum, discover
from dbfleet.migrate.placeholders import fill


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (relative path -> text or bytes) below `folder` and return `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def discover_in(tmp_path: Path, files: dict[str, str | bytes]) -> MigrationSet:
    return discover([write(tmp_path / "migrations", files)])


def discover_error(tmp_path: Path, files: dict[str, str | bytes]) -> str:
    with pytest.raises(MigrationFileError) as caught:
        discover_in(tmp_path, files)
    return str(caught.value)


# --- versions ---------------------------------------------------------------------------------


def test_versions_compare_part_by_part_as_numbers() -> None:
    texts = ["2", "1.10", "1", "1.2", "1.1", "1.9"]

    assert [str(v) for v in sorted(Version.parse(t) for t in texts)] == [
        "1",
        "1.1",
        "1.2",
        "1.9",
        "1.10",
        "2",
    ]


def test_an_underscore_separates_version_parts_like_a_dot() -> None:
    assert Version.parse("1_2") == Version.parse("1.2")


@pytest.mark.parametrize(("longer", "shorter"), [("1.0", "1"), ("2.0.0", "2"), ("1.5.0", "1.5")])
def test_trailing_zero_parts_do_not_change_a_version(longer: str, shorter: str) -> None:
    assert Version.parse(longer) == Version.parse(shorter)
    assert hash(Version.parse(longer)) == hash(Version.parse(shorter))


def test_a_timestamp_version_is_one_big_number() -> None:
    stamp = Version.parse("20261122103000")

    assert stamp > Version.parse("20261122102959")
    assert stamp > Version.parse("999")
    assert str(stamp) == "20261122103000"


def test_a_zero_version_is_allowed() -> None:
    assert Version.parse("0") < Version.parse("0.1")


@pytest.mark.parametrize("text", ["", "v1", "1.", "1..2", "1.a", "-1"])
def test_text_that_is_not_a_version_is_rejected_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"digits separated by \. or _"):
        Version.parse(text)


# --- discovery --------------------------------------------------------------------------------


def test_versioned_undo_repeatable_and_callback_files_are_found_in_nested_folders(
    tmp_path: Path,
) -> None:
    found = discover_in(
        tmp_path,
        {
            "V2__add_orders.sql": "create table orders (id int);",
            "2026/V1__create_customers.sql": "create table customers (id int);",
            "2026/undo/U2__add_orders.sql": "drop table orders;",
            "views/R__customer_view.sql": "create or replace view v as select 1;",
            "callbacks/afterMigrate__analyze.sql": "analyze;",
            "beforeMigrate.sql": "select 1;",
        },
    )

    assert [(m.kind, str(m.version), m.description) for m in found.versioned] == [
        (Kind.VERSIONED, "1", "create customers"),
        (Kind.VERSIONED, "2", "add orders"),
    ]
    assert found.versioned[0].script == "2026/V1__create_customers.sql"
    assert found.undo[Version.parse("2")].script == "2026/undo/U2__add_orders.sql"
    assert [m.description for m in found.repeatable] == ["customer view"]
    assert sorted(found.callbacks) == ["afterMigrate", "beforeMigrate"]
    assert found.callbacks["afterMigrate"][0].description == "analyze"
    assert found.versioned_by(Version.parse("2.0")) is found.versioned[1]
    assert found.versioned_by(Version.parse("3")) is None


def test_versioned_migrations_are_ordered_by_version_not_by_file_name(tmp_path: Path) -> None:
    found = discover_in(
        tmp_path,
        {
            "V10__ten.sql": "select 10;",
            "V9__nine.sql": "select 9;",
            "V1.10__one_ten.sql": "select 1.10;",
            "V1.2__one_two.sql": "select 1.2;",
        },
    )

    assert [str(m.version) for m in found.versioned] == ["1.2", "1.10", "9", "10"]


def test_files_that_are_not_sql_are_ignored(tmp_path: Path) -> None:
    found = discover_in(
        tmp_path,
        {
            "V1__init.sql": "select 1;",
            "README.md": "# how to write migrations",
            "V2__draft.sql.bak": "select 2;",
            "notes.txt": "",
        },
    )

    assert [m.script for m in found.versioned] == ["V1__init.sql"]


def test_every_location_is_searched(tmp_path: Path) -> None:
    core = write(tmp_path / "core", {"V1__core.sql": "select 1;"})
    extra = write(tmp_path / "extra", {"V2__extra.sql": "select 2;"})

    assert [m.description for m in discover([core, extra]).versioned] == ["core", "extra"]


def test_a_missing_location_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(MigrationFileError) as caught:
        discover([tmp_path / "nowhere"])

    assert str(tmp_path / "nowhere") in str(caught.value)
    assert "locations in dbfleet.toml" in str(caught.value)


def test_an_empty_location_holds_no_migrations(tmp_path: Path) -> None:
    found = discover([write(tmp_path / "migrations", {})])

    assert (found.versioned, found.undo, found.repeatable, found.callbacks) == ((), {}, (), {})


@pytest.mark.parametrize("name", ["V1_x.sql", "V__x.sql", "X1__y.sql", "V1__.sql", "R_x.sql"])
def test_a_malformed_name_is_an_error_naming_the_file_and_the_expected_forms(
    tmp_path: Path,
    name: str,
) -> None:
    message = discover_error(tmp_path, {name: "select 1;", "V2__fine.sql": "select 2;"})

    assert name in message
    assert "V<version>__<description>.sql" in message
    assert "R__<description>.sql" in message


def test_two_files_with_the_same_version_are_both_named(tmp_path: Path) -> None:
    message = discover_error(tmp_path, {"V1__a.sql": "select 1;", "V1.0__b.sql": "select 2;"})

    assert "V1__a.sql" in message
    assert "V1.0__b.sql" in message
    assert "both have version 1" in message
    assert "give one of them a new version" in message


def test_an_undo_script_without_its_versioned_migration_is_an_error(tmp_path: Path) -> None:
    message = discover_error(tmp_path, {"V1__a.sql": "select 1;", "U2__b.sql": "select 2;"})

    assert "U2__b.sql" in message
    assert "V2__*.sql" in message


def test_two_repeatables_with_the_same_description_are_an_error(tmp_path: Path) -> None:
    message = discover_error(
        tmp_path,
        {
            "a/R__refresh_views.sql": "select 1;",
            "b/R__refresh_views.sql": "select 2;",
        },
    )

    assert "a/R__refresh_views.sql" in message
    assert "b/R__refresh_views.sql" in message
    assert "'refresh views'" in message
    assert "rename one" in message


def test_all_problems_are_reported_together_in_one_line(tmp_path: Path) -> None:
    message = discover_error(
        tmp_path,
        {
            "V1__a.sql": "select 1;",
            "V1.0__b.sql": "select 2;",
            "Vx__bad.sql": "select 3;",
            "U7__orphan.sql": "select 4;",
            "V8__empty.sql": "",
        },
    )

    for name in ["V1.0__b.sql", "Vx__bad.sql", "U7__orphan.sql", "V8__empty.sql"]:
        assert name in message
    assert "\n" not in message


# --- file contents ----------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_names_the_file_the_line_and_the_fix(tmp_path: Path) -> None:
    message = discover_error(
        tmp_path,
        {
            "V1__latin1.sql": "-- customers\ninsert into t values ('caf\xe9');\n".encode("latin-1"),
        },
    )

    assert "V1__latin1.sql:2" in message
    assert "not UTF-8" in message
    assert "0xe9" in message
    assert "save the file as UTF-8" in message


@pytest.mark.parametrize("content", ["", "   \n\t\n", "\ufeff"])
def test_an_empty_or_blank_file_is_an_error(tmp_path: Path, content: str) -> None:
    message = discover_error(tmp_path, {"V1__nothing.sql": content})

    assert "V1__nothing.sql: the file is empty" in message
    assert "write the migration, or delete the file" in message


def test_a_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    with_bom = discover_in(tmp_path / "a", {"V1__x.sql": "\ufeffselect 1;\n"})
    without = discover_in(tmp_path / "b", {"V1__x.sql": "select 1;\n"})

    assert with_bom.versioned[0].text == "select 1;\n"
    assert with_bom.versioned[0].checksum == without.versioned[0].checksum


def test_the_checksum_is_the_same_for_lf_and_crlf_checkouts(tmp_path: Path) -> None:
    text = "create table t (\n  id int\n);\n"
    unix = discover_in(tmp_path / "unix", {"V1__t.sql": text.encode()})
    windows = discover_in(tmp_path / "windows", {"V1__t.sql": text.replace("\n", "\r\n").encode()})

    assert unix.versioned[0].checksum == windows.versioned[0].checksum


def test_the_checksum_changes_when_the_script_changes() -> None:
    assert checksum("select 1;") != checksum("select 2;")
    assert checksum("select 1;") == checksum("select 1;")


# --- placeholders -----------------------------------------------------------------------------


def test_known_placeholders_are_replaced_everywhere() -> None:
    text = "create schema ${schema};\ngrant usage on schema ${schema} to ${owner};\n"

    filled = fill(text, {"schema": "app", "owner": "deploy"}, "V1__init.sql")

    assert filled == "create schema app;\ngrant usage on schema app to deploy;\n"


def test_built_in_placeholders_with_a_prefix_are_replaced() -> None:
    filled = fill("-- ${dbfleet:filename}", {"dbfleet:filename": "V1__init.sql"}, "V1__init.sql")

    assert filled == "-- V1__init.sql"


def test_text_without_placeholders_is_unchanged() -> None:
    text = "select '$1', '{x}', '$ {y}';"

    assert fill(text, {}, "V1__x.sql") == text


def test_an_unknown_placeholder_names_file_line_and_how_to_define_it() -> None:
    text = "create schema app;\n\ngrant all to ${app_owner};\n"

    with pytest.raises(MigrationFileError) as caught:
        fill(text, {"schema": "app"}, "sub/V3__grants.sql")

    message = str(caught.value)
    assert "sub/V3__grants.sql:3: unknown placeholder ${app_owner}" in message
    assert "[placeholders] in dbfleet.toml" in message
    assert "--placeholder app_owner=VALUE" in message


def test_an_unknown_built_in_placeholder_lists_the_built_ins() -> None:
    values = {"dbfleet:filename": "V1__x.sql", "dbfleet:table": "history"}

    with pytest.raises(MigrationFileError) as caught:
        fill("select '${dbfleet:user}';", values, "V1__x.sql")

    assert "${dbfleet:filename}, ${dbfleet:table}" in str(caught.value)
