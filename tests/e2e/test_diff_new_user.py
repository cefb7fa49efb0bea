"""`dbfleet generate` and `dbfleet diff` as a new user runs them, on every engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import cli_process, query, scratch_setting, write_project

V1 = {
    "sqlite": """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, fax VARCHAR(30));
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id),
    amount NUMERIC(10, 2) NOT NULL);
CREATE VIEW invoice_totals AS SELECT customer_id, SUM(amount) AS total FROM invoices GROUP BY customer_id;
""",
    "postgresql": """
CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(100) NOT NULL, fax varchar(30));
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id),
    amount numeric(10, 2) NOT NULL);
CREATE VIEW invoice_totals AS SELECT customer_id, SUM(amount) AS total FROM invoices GROUP BY customer_id;
""",
    "mysql": """
CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(100) NOT NULL, fax varchar(30));
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint, amount decimal(10, 2) NOT NULL,
    CONSTRAINT invoices_customer FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE VIEW invoice_totals AS SELECT customer_id, SUM(amount) AS total FROM invoices GROUP BY customer_id;
""",
}

# The desired schema: a column added, a type used by a view widened, an index added, a column dropped.
DESIRED = {
    "sqlite": """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200));
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id),
    amount NUMERIC(12, 2) NOT NULL);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE VIEW invoice_totals AS SELECT customer_id, SUM(amount) AS total FROM invoices GROUP BY customer_id;
""",
    "postgresql": """
CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200));
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id),
    amount numeric(12, 2) NOT NULL);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE VIEW invoice_totals AS SELECT customer_id, SUM(amount) AS total FROM invoices GROUP BY customer_id;
""",
    "mysql": """
CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200));
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint, amount decimal(12, 2) NOT NULL,
    CONSTRAINT invoices_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
    KEY invoices_by_customer (customer_id, amount));
CREATE VIEW invoice_totals AS SELECT customer_id, SUM(amount) AS total FROM invoices GROUP BY customer_id;
""",
}


def engine_of(url: str) -> str:
    from dbfleet.dburl import parse_url

    return parse_url(url).engine


@pytest.mark.smoke
def test_generate_migrate_diff_and_undo_walkthrough(tmp_path: Path, db_url: str) -> None:
    engine = engine_of(db_url)
    project = write_project(
        tmp_path / "shop",
        db_url,
        {"V1__start.sql": V1[engine]},
        extra=scratch_setting(db_url),
    )
    assert cli_process(project, "migrate").exit_code == 0
    query(db_url, "INSERT INTO customers (id, name) VALUES (1, 'ann')")
    query(db_url, "INSERT INTO invoices (id, customer_id, amount) VALUES (1, 1, 12.5)")
    (project / "schema").mkdir()
    (project / "schema" / "schema.sql").write_text(DESIRED[engine])

    generated = cli_process(project, "generate", "widen amount, email instead of fax")
    assert generated.exit_code == 0, generated.output
    assert "verified" in generated.stderr
    v2 = project / "migrations" / "V2__widen_amount_email_instead_of_fax.sql"
    u2 = project / "migrations" / "U2__widen_amount_email_instead_of_fax.sql"
    text = v2.read_text()
    assert "-- hazard data_loss" in text and "fax" in text  # the dropped column is flagged
    assert u2.exists()
    # Lint agrees: the column's data is lost (on SQLite, by the rebuild's drop of the old table,
    # which dbfleet otherwise marks as intended), and no comment dbfleet wrote is a finding.
    linted = cli_process(project, "lint", "--format", "json")
    found = {(f["code"], f["file"]) for f in json.loads(linted.stdout)["findings"]}
    assert linted.exit_code == 3 and any(code in ("DF101", "DF102") for code, _ in found)
    assert not any(code == "DF004" for code, _ in found)

    again = cli_process(project, "generate", "again")
    assert again.exit_code == 1 and "nothing to generate" in again.stderr

    assert cli_process(project, "migrate").exit_code == 0
    assert query(db_url, "SELECT name FROM customers") == [("ann",)]
    same = cli_process(project, "diff", "migrations", "dir:schema", "--exit-code")
    assert same.exit_code == 0, same.output
    live = cli_process(project, "diff", "env:dev", "dir:schema", "--exit-code")
    assert live.exit_code == 0, live.output

    undo = cli_process(project, "undo")
    assert undo.exit_code == 0, undo.output
    back = cli_process(project, "diff", "env:dev", "migrations@1", "--exit-code")
    assert back.exit_code == 0, back.output


def test_diff_formats_exit_codes_and_fail_on(tmp_path: Path, sqlite_url: str) -> None:
    project = write_project(tmp_path / "p", sqlite_url, {"V1__start.sql": V1["sqlite"]})
    (project / "schema").mkdir()
    (project / "schema" / "schema.sql").write_text(DESIRED["sqlite"])
    text = cli_process(project, "diff", "migrations", "dir:schema", "--exit-code")
    assert text.exit_code == 2
    assert "-- hazard data_loss" in text.stdout
    data = cli_process(project, "diff", "migrations", "dir:schema", "--format", "json")
    changes = json.loads(data.stdout)["changes"]
    assert {"action", "kind", "object", "before", "after", "hazards", "statements"} <= set(
        changes[0]
    )
    md = cli_process(project, "diff", "migrations", "dir:schema", "-f", "md")
    assert md.stdout.startswith("### ") and "| high | `data_loss`" in md.stdout
    failing = cli_process(project, "diff", "migrations", "dir:schema", "--fail-on", "data_loss")
    assert failing.exit_code == 1 and "hazards present: data_loss" in failing.stderr
    inverse = tmp_path / "inverse.sql"
    cli_process(project, "diff", "migrations", "dir:schema", "--inverse", str(inverse))
    assert "fax" in inverse.read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["diff", "migrations", "nowhere:x"], "is not a schema source"),
        (["diff", "migrations", "dir:schema", "--fail-on", "oops"], "not a hazard code"),
        (["diff", "migrations", "dir:schema", "--rename", "a"], "not OLD=NEW"),
        (["diff", "migrations", "dir:schema", "--format", "xml"], "not a format"),
        (["generate", "!!!"], "is not a description"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, sqlite_url: str, args, message) -> None:
    project = write_project(tmp_path / "p", sqlite_url, {"V1__start.sql": V1["sqlite"]})
    (project / "schema").mkdir()
    (project / "schema" / "schema.sql").write_text(DESIRED["sqlite"])
    result = cli_process(project, *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_online_generate_puts_concurrently_in_a_migration_of_its_own(tmp_path: Path, pg_url: str):
    engine = "postgresql"
    project = write_project(
        tmp_path / "shop",
        pg_url,
        {"V1__start.sql": V1[engine]},
        extra=scratch_setting(pg_url) + '\n[diff]\nonline = true\nlock_timeout = "2s"\n',
    )
    assert cli_process(project, "migrate").exit_code == 0
    (project / "schema").mkdir()
    (project / "schema" / "schema.sql").write_text(
        V1[engine] + "CREATE INDEX invoices_customer ON invoices (customer_id);\n"
        "ALTER TABLE customers ALTER COLUMN fax SET NOT NULL;\n"
    )
    generated = cli_process(project, "generate", "index customers")
    assert generated.exit_code == 0, generated.output
    files = sorted(p.name for p in (project / "migrations").iterdir())
    assert "V2__index_customers.sql" in files and "V2.1__index_customers.sql" in files
    concurrent = (project / "migrations" / "V2.1__index_customers.sql").read_text()
    assert concurrent.startswith("-- dbfleet:no-transaction")
    assert "CREATE INDEX CONCURRENTLY invoices_customer" in concurrent
    assert "SET lock_timeout = '2s';" in concurrent
    first = (project / "migrations" / "V2__index_customers.sql").read_text()
    assert "NOT VALID" in first and "VALIDATE CONSTRAINT" in first  # SET NOT NULL, online
    migrate = cli_process(project, "migrate")
    assert migrate.exit_code == 0, migrate.output
    assert cli_process(project, "diff", "env:dev", "dir:schema", "--exit-code").exit_code == 0
    undo = cli_process(project, "undo", "--to", "1")
    assert undo.exit_code == 0, undo.output
    assert cli_process(project, "diff", "env:dev", "migrations@1", "--exit-code").exit_code == 0
