"""Specification of `dbfleet lint` on SQLite and MariaDB: their own syntax, the same safety rules."""

from __future__ import annotations

import pytest

from tests.lint_support import codes, lint_project, only

CUSTOMERS = "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);\n"


def test_sqlite_judges_its_own_syntax(tmp_path):
    result = lint_project(
        tmp_path, {"V1__x.sql": "SELECT 1;\nCREATE TABLE t (a int,, b int);\n"}, "sqlite"
    )
    finding = only(result, "DF001")
    assert (finding.line, finding.column) == (2, 23)
    assert 'near ","' in finding.message


def test_sqlite_statements_on_tables_it_has_not_seen_are_not_syntax_errors(tmp_path):
    sql = "INSERT INTO somewhere_else (a) VALUES (1);\nCREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;\n"
    assert codes(lint_project(tmp_path, {"V1__x.sql": sql}, "sqlite")) == []


def test_sqlite_has_no_concurrently_so_indexes_and_types_are_not_flagged(tmp_path):
    files = {"V1__a.sql": CUSTOMERS, "V2__b.sql": "CREATE INDEX i ON customers (email);\n"}
    assert codes(lint_project(tmp_path, files, "sqlite")) == []


@pytest.mark.parametrize("engine", ["sqlite", "mysql"])
@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("DROP TABLE customers;", "DF101"),
        ("ALTER TABLE customers DROP COLUMN email;", "DF102"),
        ("DELETE FROM customers;", "DF107"),
        ("UPDATE customers SET email = '';", "DF108"),
        ("ALTER TABLE customers RENAME TO clients;", "DF401"),
        ("ALTER TABLE customers RENAME COLUMN email TO mail;", "DF402"),
        ("ALTER TABLE customers ADD COLUMN name TEXT NOT NULL;", "DF212"),
        ("CREATE TABLE logs (line TEXT);", "DF601"),
        ("BEGIN;", "DF304"),
    ],
)
def test_engine_neutral_rules_fire_on_sqlite_and_mariadb(tmp_path, engine, sql, code):
    files = {"V1__a.sql": CUSTOMERS, "V2__b.sql": sql + "\n"}
    assert code in codes(lint_project(tmp_path, files, engine))


def test_mariadb_syntax_errors_are_found_by_its_dialect(tmp_path):
    result = lint_project(tmp_path, {"V1__x.sql": "SELECT 1;\nSELEC 2;\n"}, "mysql")
    assert only(result, "DF001").line == 2


def test_mariadb_int_ids_and_lock_wait_timeout(tmp_path):
    files = {
        "V1__a.sql": "CREATE TABLE a (id INT PRIMARY KEY);\n",
        "V2__b.sql": "ALTER TABLE a ADD COLUMN n INT;\n",
        "V3__c.sql": "SET lock_wait_timeout = 5;\nALTER TABLE a ADD COLUMN m INT;\n",
    }
    result = lint_project(tmp_path, files, "mysql")
    assert codes(result, "V1__a.sql") == ["DF602"]
    assert codes(result, "V2__b.sql") == ["DF501"]
    assert codes(result, "V3__c.sql") == []


def test_mariadb_delimiter_scripts_are_split_by_the_engine_splitter(tmp_path):
    sql = (
        "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END//\nDELIMITER ;\n"
        "DROP TABLE gone;\n"
    )
    result = lint_project(tmp_path, {"V1__x.sql": sql}, "mysql")
    assert only(result, "DF101").line == 4


def test_a_repeatable_migration_that_drops_its_views_first_is_rerunnable(tmp_path):
    files = {
        "V1__a.sql": CUSTOMERS,
        "R__views.sql": "DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT id FROM customers;\n",
    }
    assert codes(lint_project(tmp_path, files, "sqlite")) == []
