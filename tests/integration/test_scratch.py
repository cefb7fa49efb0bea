"""Scratch databases: created for a dir:/migrations source, always dropped, clear when refused."""

from __future__ import annotations

import os

from tests.support import cli, query, write_project


def test_scratch_server_that_refuses_create_database_gets_one_clear_line(
    tmp_path, pg_url, postgres_server
):
    if "@127.0.0.1" not in postgres_server:
        import pytest

        pytest.skip("needs the TCP server, where roles can be switched")
    query(pg_url, "DROP ROLE IF EXISTS dbfleet_no_createdb")
    query(pg_url, "CREATE ROLE dbfleet_no_createdb LOGIN NOCREATEDB")
    try:
        scratch = postgres_server.replace("postgres@", "dbfleet_no_createdb@", 1)
        project = write_project(tmp_path, pg_url, extra=f'scratch_url = "{scratch}"\n')
        (project / "schema").mkdir()
        (project / "schema" / "t.sql").write_text("CREATE TABLE t (id int);\n")
        result = cli(project, "inspect", "dir:schema")
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "cannot create a scratch database" in result.stderr
        assert "CREATE DATABASE" in result.stderr
    finally:
        query(pg_url, "DROP ROLE IF EXISTS dbfleet_no_createdb")


def test_mariadb_dir_source_uses_the_scratch_server_and_drops_its_database(
    tmp_path, mysql_url, mysql_server
):
    project = write_project(tmp_path, mysql_url, extra=f'scratch_url = "{mysql_server}"\n')
    tables = project / "schema" / "default" / "tables"
    tables.mkdir(parents=True)
    (tables / "orders.sql").write_text(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT,\n"
        "  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id));\n"
    )
    (tables / "customers.sql").write_text("CREATE TABLE customers (id BIGINT PRIMARY KEY);\n")
    result = cli(project, "inspect", "dir:schema")
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE `orders`" in result.stdout
    leftovers = query(
        mysql_url,
        "SELECT COUNT(*) FROM information_schema.schemata "
        f"WHERE schema_name LIKE 'dbfleet\\_scratch\\_{os.getpid()}\\_%'",
    )
    assert leftovers == [(0,)]


def test_mariadb_without_a_scratch_url_says_how_to_configure_one(tmp_path, mysql_url):
    project = write_project(tmp_path, mysql_url)
    (project / "schema").mkdir()
    (project / "schema" / "t.sql").write_text("CREATE TABLE t (id INT);\n")
    result = cli(project, "inspect", "dir:schema")
    assert result.exit_code == 1 and "scratch_url" in result.stderr


def test_sqlite_migrations_source_needs_no_server(tmp_path, sqlite_url):
    project = write_project(
        tmp_path,
        sqlite_url,
        {
            "V1__t.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
            "V2__i.sql": "CREATE INDEX t_name ON t (name);\n",
        },
    )
    at_one = cli(project, "inspect", "migrations@1")
    assert at_one.exit_code == 0, at_one.output
    assert "CREATE TABLE t" in at_one.stdout and "t_name" not in at_one.stdout
    assert "t_name" in cli(project, "inspect", "migrations").stdout
    assert "dbfleet_schema_history" not in cli(project, "inspect", "migrations").stdout
