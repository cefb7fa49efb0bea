"""Specification of `dbfleet lint` on PostgreSQL: the server's grammar and the safety rules."""

from __future__ import annotations

import pytest

from tests.lint_support import codes, lint_project, only

INVOICES = "CREATE TABLE invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric, note text);\n"


def lint_after_invoices(tmp_path, sql: str, **kw):
    """Lint V2 (the statement under test) after V1 created the invoices table."""
    return lint_project(tmp_path, {"V1__invoices.sql": INVOICES, "V2__change.sql": sql}, **kw)


# --- syntax ---------------------------------------------------------------------------------


def test_syntax_error_is_reported_at_the_token_the_parser_stopped_at(tmp_path):
    result = lint_project(tmp_path, {"V1__x.sql": "SELECT 1;\n\nCREATE TABLE t (a int,, b int);\n"})
    finding = only(result, "DF001")
    assert (finding.path, finding.line, finding.column) == ("migrations/V1__x.sql", 3, 23)
    assert finding.source_line == "CREATE TABLE t (a int,, b int);"
    assert 'syntax error at or near ","' in finding.message
    assert result.failed


def test_a_statement_cut_off_at_the_end_points_past_its_last_token(tmp_path):
    finding = only(lint_project(tmp_path, {"V1__x.sql": "SELECT 1;\nSELECT frm where;\n"}), "DF001")
    assert (finding.line, finding.column) == (2, 17)


def test_every_syntax_error_in_a_file_is_reported_and_the_rest_still_linted(tmp_path):
    result = lint_after_invoices(
        tmp_path, "SELEC 1;\nALTER TABLE invoices DROP COLUMN note;\nCREATE TABL x ();\n"
    )
    assert codes(result, "V2__change.sql") == ["DF001", "DF102", "DF501", "DF001"]


def test_unterminated_dollar_quote_is_one_finding_not_a_traceback(tmp_path):
    result = lint_project(tmp_path, {"V1__x.sql": "SELECT 1;\nDO $a$ BEGIN PERFORM 1; END $b$;\n"})
    finding = only(result, "DF001")
    assert "unterminated" in finding.message and finding.line == 2


def test_tricky_but_valid_sql_is_clean(tmp_path):
    sql = (
        "SET lock_timeout = '1s';\n"
        "CREATE FUNCTION f() RETURNS text AS $outer$ SELECT $inner$ ; $inner$ $outer$ LANGUAGE sql;\n"
        "SELECT E'it\\'s; -- not a comment', '/* nor; this */';\n"
    )
    assert codes(lint_project(tmp_path, {"V1__x.sql": sql})) == []


def test_non_utf8_file_is_a_finding_with_its_line(tmp_path):
    finding = only(lint_project(tmp_path, {"V1__x.sql": b"SELECT 1;\nSELECT '\xff';\n"}), "DF002")
    assert finding.line == 2 and "0xff" in finding.message


def test_binary_file_is_a_finding(tmp_path):
    result = lint_project(tmp_path, {"V1__x.sql": b"\x00\x01\x02PNG"})
    assert codes(result) == ["DF002"]


# --- data loss, locking: the schema decides --------------------------------------------------


def test_index_without_concurrently_on_an_existing_table_locks_writes(tmp_path):
    result = lint_after_invoices(tmp_path, "CREATE INDEX ON invoices (total);\n")
    finding = only(result, "DF201")
    assert finding.message == "CREATE INDEX without CONCURRENTLY locks writes on invoices"
    assert "CONCURRENTLY" in finding.help
    assert (finding.path, finding.line) == ("migrations/V2__change.sql", 1)


def test_index_on_a_table_created_in_the_same_migration_is_harmless(tmp_path):
    sql = INVOICES + "CREATE INDEX ON invoices (total);\nALTER TABLE invoices DROP COLUMN note;\n"
    assert codes(lint_project(tmp_path, {"V1__x.sql": sql})) == []


def test_concurrent_index_is_fine_but_must_be_retryable(tmp_path):
    ok = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON invoices (total);\n"
    assert codes(lint_after_invoices(tmp_path / "a", ok)) == []
    retry = "CREATE INDEX CONCURRENTLY i ON invoices (total);\n"
    assert codes(lint_after_invoices(tmp_path / "b", retry)) == ["DF503"]


def test_concurrently_inside_begin_commit_fails(tmp_path):
    sql = "BEGIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON invoices (total);\nCOMMIT;\n"
    assert "DF301" in codes(lint_after_invoices(tmp_path, sql))


def test_begin_without_commit_is_an_uncommitted_transaction(tmp_path):
    result = lint_after_invoices(tmp_path, "BEGIN;\nUPDATE invoices SET total = 0 WHERE id = 1;\n")
    assert codes(result) == ["DF303", "DF304"]


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("DROP TABLE invoices;", "DF101"),
        ("ALTER TABLE invoices DROP COLUMN note;", "DF102"),
        ("DROP SCHEMA billing CASCADE;", "DF103"),
        ("DROP DATABASE billing;", "DF104"),
        ("TRUNCATE invoices;", "DF105"),
        ("TRUNCATE invoices CASCADE;", "DF106"),
        ("DELETE FROM invoices;", "DF107"),
        ("UPDATE invoices SET note = '';", "DF108"),
        ("ALTER TABLE invoices ALTER COLUMN note TYPE varchar(10);", "DF109"),
        ("DROP INDEX invoices_total;", "DF202"),
        ("ALTER TABLE invoices ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES x (id);", "DF203"),
        ("ALTER TABLE invoices ADD CONSTRAINT c CHECK (total > 0);", "DF204"),
        ("ALTER TABLE invoices ALTER COLUMN note SET NOT NULL;", "DF205"),
        ("ALTER TABLE invoices ALTER COLUMN total TYPE bigint;", "DF206"),
        ("ALTER TABLE invoices ADD COLUMN k uuid DEFAULT gen_random_uuid();", "DF207"),
        ("ALTER TABLE invoices ADD CONSTRAINT u UNIQUE (note);", "DF208"),
        ("ALTER TABLE invoices ADD CONSTRAINT u UNIQUE (note);", "DF110"),
        ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u ON invoices (note);", "DF110"),
        ("ALTER TABLE invoices ADD COLUMN n bigserial PRIMARY KEY;", "DF208"),
        ("VACUUM FULL invoices;", "DF209"),
        ("CLUSTER invoices;", "DF209"),
        ("REINDEX TABLE invoices;", "DF210"),
        ("LOCK TABLE invoices;", "DF211"),
        ("ALTER TABLE invoices ADD COLUMN due date NOT NULL;", "DF212"),
        ("CREATE DOMAIN positive AS int CHECK (VALUE > 0);", "DF213"),
        ("ALTER DOMAIN positive ADD CONSTRAINT p CHECK (VALUE > 0);", "DF213"),
        (
            "ALTER TABLE invoices ADD COLUMN t2 numeric GENERATED ALWAYS AS (total * 2) STORED;",
            "DF214",
        ),
        ("ALTER TABLE invoices RENAME TO bills;", "DF401"),
        ("ALTER TABLE invoices RENAME COLUMN note TO memo;", "DF402"),
        ("ALTER TABLE invoices ALTER COLUMN note DROP NOT NULL;", "DF403"),
        ("CREATE TABLE logs (line text);", "DF601"),
        ("CREATE TABLE a (id int PRIMARY KEY);", "DF602"),
        ("CREATE TABLE a (id smallint PRIMARY KEY);", "DF603"),
        ("CREATE TABLE a (id bigint PRIMARY KEY, at timestamp);", "DF604"),
        ("CREATE TABLE a (id bigint PRIMARY KEY, name varchar(40));", "DF605"),
        ("CREATE TABLE a (id bigserial PRIMARY KEY);", "DF606"),
        ("CREATE TABLE a (id bigint PRIMARY KEY, code char(3));", "DF607"),
    ],
)
def test_each_rule_fires_on_its_statement(tmp_path, sql, code):
    assert code in codes(lint_after_invoices(tmp_path, "SET lock_timeout = '2s';\n" + sql + "\n"))


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE invoices ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES x (id) NOT VALID;",
        "ALTER TABLE invoices ADD CONSTRAINT c CHECK (total > 0) NOT VALID;",
        "ALTER TABLE invoices VALIDATE CONSTRAINT c;",
        "ALTER TABLE invoices ADD COLUMN k int DEFAULT 0 NOT NULL;",
        "ALTER TABLE invoices ADD COLUMN at timestamptz DEFAULT now();",
        "ALTER TABLE invoices ADD CONSTRAINT u UNIQUE USING INDEX invoices_note;",
        "DELETE FROM invoices WHERE total = 0;",
        "REINDEX TABLE CONCURRENTLY invoices;",
        "DROP INDEX CONCURRENTLY IF EXISTS invoices_total;",
    ],
)
def test_safe_alternatives_are_clean(tmp_path, sql):
    assert codes(lint_after_invoices(tmp_path, "SET lock_timeout = '2s';\n" + sql + "\n")) == []


def test_missing_lock_timeout_is_reported_once_per_file(tmp_path):
    sql = "ALTER TABLE invoices ADD COLUMN a text;\nALTER TABLE invoices ADD COLUMN b text;\n"
    assert codes(lint_after_invoices(tmp_path, sql)) == ["DF501"]


def test_narrowing_knows_the_old_type_from_earlier_migrations(tmp_path):
    files = {
        "V1__a.sql": "CREATE TABLE a (id bigint PRIMARY KEY, n bigint);\n",
        "V2__b.sql": "SET lock_timeout = '1s';\nALTER TABLE a ALTER COLUMN n TYPE int;\n",
    }
    finding = only(lint_project(tmp_path, files), "DF109")
    assert finding.message == "column a.n narrows from int64 to int32"


def test_a_renamed_table_keeps_its_history(tmp_path):
    files = {
        "V1__a.sql": INVOICES,
        "V2__b.sql": "SET lock_timeout = '1s';\n-- dbfleet:ignore DF401 no app yet\nALTER TABLE invoices RENAME TO bills;\n",
        "V3__c.sql": "CREATE INDEX ON bills (total);\n",
    }
    assert codes(lint_project(tmp_path, files), "V3__c.sql") == ["DF201", "DF501"]


def test_dropping_a_table_a_view_reads_is_flagged(tmp_path):
    files = {
        "V1__a.sql": INVOICES + "CREATE VIEW totals AS SELECT sum(total) FROM invoices;\n",
        "V2__b.sql": "SET lock_timeout = '1s';\nDROP TABLE invoices;\n",
    }
    assert only(lint_project(tmp_path, files), "DF404").message == (
        "table invoices is used by view totals"
    )


def test_repeatable_migrations_must_be_rerunnable(tmp_path):
    files = {
        "V1__a.sql": INVOICES,
        "R__views.sql": "CREATE VIEW v AS SELECT 1;\nCREATE OR REPLACE VIEW w AS SELECT 2;\n",
    }
    assert codes(lint_project(tmp_path, files), "R__views.sql") == ["DF504"]


def test_migration_folder_files_with_wrong_names_are_reported(tmp_path):
    result = lint_project(tmp_path, {"V1__a.sql": INVOICES, "create_stuff.sql": "SELECT 1;"})
    assert only(result, "DF705").path == "migrations/create_stuff.sql"


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("ALTER TABLE invoices DETACH PARTITION invoices_2020;", "DF215"),
        ("CREATE TABLE " + "x" * 70 + " (id bigint PRIMARY KEY);", "DF609"),
    ],
)
def test_more_squawk_rules(tmp_path, sql, code):
    assert code in codes(lint_after_invoices(tmp_path, "SET lock_timeout = '2s';\n" + sql + "\n"))


def test_opt_in_rules_statement_timeout_enum_order_and_drop_object(tmp_path):
    extra = '[lint]\nenable = ["DF505", "DF610", "DF405"]\n'
    sql = (
        "SET lock_timeout = '2s';\nALTER TABLE invoices ADD COLUMN a text;\n"
        "ALTER TYPE mood ADD VALUE 'meh';\nDROP VIEW totals;\n"
    )
    assert codes(lint_after_invoices(tmp_path, sql, extra=extra)) == ["DF505", "DF610", "DF405"]


def test_placeholders_are_linted_as_names_and_positions_stay_exact(tmp_path):
    sql = "SET lock_timeout = '1s';\nCREATE INDEX ON ${schema}.invoices (total); ALTER TABLE ${schema}.invoices DROP COLUMN note;\n"
    result = lint_after_invoices(tmp_path, sql)
    assert [(f.code, f.line, f.column) for f in result.active] == [
        ("DF201", 2, 17),
        ("DF102", 2, 57),
    ]
    assert "${schema}" in result.active[0].source_line


def test_undo_scripts_may_drop_what_their_migration_added(tmp_path):
    files = {
        "V1__a.sql": INVOICES,
        "V2__b.sql": "SET lock_timeout = '1s';\nALTER TABLE invoices ADD COLUMN due date;\n",
        "U2__b.sql": "SET lock_timeout = '1s';\nALTER TABLE invoices DROP COLUMN due;\nCREATE INDEX ON invoices (total);\n",
    }
    assert codes(lint_project(tmp_path, files), "U2__b.sql") == ["DF201"]  # locking still counts


def test_dropping_a_column_a_view_reads_is_flagged_and_other_columns_are_not(tmp_path):
    files = {
        "V1__a.sql": INVOICES + "CREATE VIEW totals AS SELECT sum(i.total) FROM invoices i;\n",
        "V2__b.sql": "SET lock_timeout = '1s';\nALTER TABLE invoices DROP COLUMN total;\nALTER TABLE invoices DROP COLUMN note;\n",
    }
    result = lint_project(tmp_path, files)
    assert [(f.line, f.message) for f in result.active if f.code == "DF404"] == [
        (2, "column invoices.total is used by view totals")
    ]


@pytest.mark.parametrize(("engine", "code"), [("postgresql", "DF404"), ("sqlite", "DF406")])
def test_a_view_on_star_uses_every_column(tmp_path, engine, code):
    files = {
        "V1__a.sql": "CREATE TABLE a (id bigint PRIMARY KEY, x text);\nCREATE VIEW v AS SELECT * FROM a;\n",
        "V2__b.sql": "ALTER TABLE a DROP COLUMN x;\n",
    }
    assert code in codes(
        lint_project(tmp_path, files, engine)
    )  # SQLite: the drop works, the view breaks


def test_a_file_mixing_concurrently_or_vacuum_with_transactional_work_is_not_atomic(tmp_path):
    mixed = "INSERT INTO invoices (total) VALUES (1);\nVACUUM invoices;\n"
    assert codes(lint_after_invoices(tmp_path / "a", mixed)) == ["DF302"]
    alone = (
        "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON invoices (total);\n"
    )
    assert codes(lint_after_invoices(tmp_path / "b", alone)) == []


def test_temporary_tables_are_new_and_need_no_conventions(tmp_path):
    sql = "CREATE TEMP TABLE scratch (n int);\nCREATE INDEX ON scratch (n);\nDROP TABLE scratch;\n"
    assert codes(lint_after_invoices(tmp_path, sql)) == []


def test_column_findings_point_at_the_column_in_any_statement(tmp_path):
    sql = (
        "-- two tables\nCREATE TABLE a (id bigint PRIMARY KEY);\n\nCREATE TABLE b (\n"
        "    id          INTEGER PRIMARY KEY,\n    name        VARCHAR(20)\n);\n"
    )
    result = lint_project(tmp_path, {"V1__a.sql": sql})
    assert [(f.code, f.line, f.column) for f in result.active] == [
        ("DF602", 5, 17),
        ("DF605", 6, 17),
    ]


def test_function_bodies_are_parsed_as_the_server_does_at_create_time(tmp_path):
    sql = (
        "CREATE FUNCTION ok() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\n"
        "CREATE FUNCTION typo() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETRUN 1;\nEND $$;\n"
        "CREATE FUNCTION q() RETURNS int AS $$ SELEC 1 $$ LANGUAGE sql;\n"
    )
    result = lint_project(tmp_path, {"V1__f.sql": sql})
    assert [(f.code, f.line, f.column, f.message) for f in result.active] == [
        ("DF001", 4, 3, 'in the function body: syntax error at or near "RETRUN"'),
        ("DF001", 6, 39, 'in the function body: syntax error at or near "SELEC"'),
    ]
