"""Every JSON document dbfleet writes for machines matches its published schema.

The documents come from the CLI run on real databases (the example project on SQLite, a
PostgreSQL project for the parts only PostgreSQL has); the schemas are the ones `dbfleet schema
NAME` prints. A key a command starts writing without its schema saying so fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from tests.support import Result, cli, query, scratch_setting, write_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "billing"
SCHEMAS = Path(__file__).resolve().parents[2] / "src" / "dbfleet" / "report" / "schemas"
NAMES = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
DOCUMENTS = [
    "approvals",
    "check",
    "diff",
    "drift",
    "error",
    "fleet-drift",
    "fleet-status",
    "history",
    "lint",
    "migrate",
    "model",
    "pipeline-status",
    "plan",
    "status",
    "test",
]


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return data


REGISTRY: Registry[Any] = Registry().with_resources(
    (s["$id"], Resource.from_contents(s)) for s in map(_schema, NAMES)
)

# RFC 3339 as JSON Schema means it (a zone is required), checked here so that the test does
# not depend on which optional format packages jsonschema found installed.
CHECKER = FormatChecker()


@CHECKER.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return "T" in value and parsed.tzinfo is not None


def validate(name: str, document: Any) -> None:
    """Fail with every place where `document` does not match schema `name`."""
    validator = Draft202012Validator(_schema(name), registry=REGISTRY, format_checker=CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name}: " + "\n".join(
        f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
    )


def run_json(project: Path, *args: str, exit_codes: tuple[int, ...] = (0,)) -> Any:
    result = cli(project, *args, env=PROD)
    assert result.exit_code in exit_codes, result.output
    return json.loads(result.stdout)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


# --- the schemas themselves ------------------------------------------------------------------


def test_every_document_has_a_valid_schema_that_describes_every_property() -> None:
    assert NAMES == DOCUMENTS
    for name in NAMES:
        schema = _schema(name)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"https://dbfleet.dev/schemas/{name}.schema.json"
        assert schema["title"] and schema["description"]
        undocumented = [path for path in _properties(schema) if "description" not in path[1]]
        assert not undocumented, f"{name}: no description for {[p for p, _ in undocumented]}"


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield f"{where}/{key}", value
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _properties(value, where)


def test_a_key_the_schema_does_not_name_fails_validation() -> None:
    document = {"runs": [], "approvals": []}
    with pytest.raises(AssertionError, match="Additional properties"):
        validate("history", document)


def test_dbfleet_schema_lists_the_names_and_prints_each_schema(tmp_path: Path) -> None:
    listed = ok(cli(tmp_path, "schema")).stdout.split()
    assert listed == DOCUMENTS
    for name in DOCUMENTS:
        assert json.loads(ok(cli(tmp_path, "schema", name)).stdout) == _schema(name)
    unknown = cli(tmp_path, "schema", "plans")
    assert unknown.exit_code == 1
    assert "no schema named 'plans'" in unknown.stderr and "plan" in unknown.stderr


# --- the example project on SQLite -----------------------------------------------------------

PROD = {"BILLING_PROD_URL": "sqlite:///.dbfleet/prod.db"}


@pytest.fixture(scope="module")
def billing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project, dev migrated, staging drifted, its fleet rolled out, in git."""
    root = tmp_path_factory.mktemp("schemas") / "billing"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".dbfleet"))
    with (root / "dbfleet.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[environments.qa]\nurl = "sqlite:///.dbfleet/qa.db"\n')
    ok(cli(root, "migrate"))
    ok(cli(root, "migrate", "--env", "staging"))
    query(f"sqlite:///{root / '.dbfleet' / 'staging.db'}", "CREATE TABLE notes (id INTEGER)")
    ok(cli(root, "fleet", "migrate", "--env", "fleet"))
    query(
        f"sqlite:///{root / '.dbfleet' / 'fleet' / 'acme.db'}",
        "CREATE INDEX t_slug ON tenants (slug)",
    )
    return root


def test_migrate_and_status_documents(billing: Path) -> None:
    dry = run_json(billing, "migrate", "--env", "qa", "--target", "2", "--dry-run", "--json")
    assert dry["sql"]
    validate("migrate", dry)
    migrated = run_json(billing, "migrate", "--env", "qa", "--target", "2", "--json")
    assert migrated["applied"]
    validate("migrate", migrated)
    validate("migrate", run_json(billing, "migrate", "--json"))  # nothing to do
    status = run_json(billing, "status", "--json")
    assert status["migrations"][0]["installed_on"].endswith("Z")
    validate("status", status)


def test_plan_file_and_plan_json_documents(billing: Path) -> None:
    pending = run_json(billing, "plan", "--env", "prod", "-f", "json", exit_codes=(0, 2))
    assert pending["migrations"] and pending["changes"]["changes"]
    validate("plan", pending)
    ok(cli(billing, "plan", "--env", "staging", "-o", "staging.plan.json"))
    validate("plan", json.loads((billing / "staging.plan.json").read_text("utf-8")))


def test_drift_and_diff_documents(billing: Path) -> None:
    drift = run_json(billing, "drift", "--env", "staging", "--json", exit_codes=(2,))
    assert drift["drifted"] and drift["fix"]["changes"]
    validate("drift", drift)
    validate("drift", run_json(billing, "drift", "--json"))
    diff = run_json(billing, "diff", "env:staging", "migrations", "-f", "json", exit_codes=(0, 2))
    assert diff["changes"][0]["before"]["name"] == "notes"
    validate("diff", diff)
    model = run_json(billing, "inspect", "env:dev", "-f", "json")
    assert model["tables"] and model["views"]
    validate("model", model)


def test_lint_and_test_documents(billing: Path) -> None:
    lint = run_json(billing, "lint", "-f", "json", exit_codes=(0, 3))
    assert lint["findings"]
    validate("lint", lint)
    validate("test", run_json(billing, "test", "--json"))


def test_history_and_approvals_documents(billing: Path) -> None:
    ok(cli(billing, "plan", "--env", "staging", "-o", "approved.plan.json"))
    ok(cli(billing, "approve", "--plan", "approved.plan.json", "-m", "looks right"))
    ok(cli(billing, "approve", "--plan", "approved.plan.json", "--revoke"))
    ok(cli(billing, "approve", "--plan", "approved.plan.json"))
    approvals = run_json(billing, "approvals", "--json")
    assert {a["state"] for a in approvals["approvals"]} == {"valid", "revoked"}
    validate("approvals", approvals)
    history = run_json(billing, "history", "--json")
    assert history["runs"]
    validate("history", history)


def test_fleet_documents(billing: Path) -> None:
    status = run_json(billing, "fleet", "status", "--env", "fleet", "--json")
    assert status["tenants"] and status["skipped"]
    validate("fleet-status", status)
    drift = run_json(billing, "fleet", "drift", "--env", "fleet", "--json", exit_codes=(2,))
    assert drift["differ"] == 1
    validate("fleet-drift", drift)


def test_pipeline_status_document(billing: Path) -> None:
    validate("pipeline-status", run_json(billing, "pipeline", "status", "--json"))
    cli(billing, "pipeline", "run", "--to", "verify")
    status = run_json(billing, "pipeline", "status", "--json")
    assert status["runs"] and status["steps"]
    validate("pipeline-status", status)


def test_check_base_document(billing: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(billing, repo, ignore=shutil.ignore_patterns(".dbfleet", "*.plan.json"))

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.email=dev@example.com", "-c", "user.name=Dev", "add", "-A")
    git("-c", "user.email=dev@example.com", "-c", "user.name=Dev", "commit", "-q", "-m", "base")
    (repo / "migrations" / "V3__invoices.sql").write_text("-- edited\n", encoding="utf-8")
    (repo / "migrations" / "V5__invoice_status_index.sql").unlink()
    report = run_json(repo, "check", "--base", "main", "--json", exit_codes=(2,))
    assert {p["kind"] for p in report["problems"]} >= {"edited", "deleted"}
    validate("check", report)


def test_a_failing_command_asked_for_json_prints_the_error_document(billing: Path) -> None:
    for args in (
        ["migrate", "--env", "prod", "--json"],
        ["plan", "--env", "nowhere", "-f", "json"],
    ):
        failed = run_json(billing, *args, exit_codes=(1,))
        assert failed["error"]
        validate("error", failed)


# --- PostgreSQL: the parts only it has ---------------------------------------------------------

PG_SCHEMA = """
CREATE SCHEMA billing;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TYPE billing.status AS ENUM ('open', 'paid');
CREATE DOMAIN billing.money_amount AS numeric(12, 2) CHECK (VALUE >= 0);
CREATE SEQUENCE billing.invoice_numbers START 1000 INCREMENT 5 CACHE 10;
CREATE TABLE billing.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    email_lower text GENERATED ALWAYS AS (lower(email)) STORED
);
COMMENT ON TABLE billing.customers IS 'who pays';
CREATE TABLE billing.invoices (
    id bigint NOT NULL,
    customer_id bigint REFERENCES billing.customers (id),
    status billing.status NOT NULL DEFAULT 'open',
    amount billing.money_amount,
    issued_on date NOT NULL,
    PRIMARY KEY (id, issued_on)
) PARTITION BY RANGE (issued_on);
CREATE TABLE billing.invoices_2026 PARTITION OF billing.invoices
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE billing.customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON billing.customers USING (email = current_user);
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER touch BEFORE UPDATE ON billing.customers
    FOR EACH ROW EXECUTE FUNCTION billing.touch();
CREATE MATERIALIZED VIEW billing.totals AS
    SELECT customer_id, sum(amount) AS total FROM billing.invoices GROUP BY customer_id;
CREATE INDEX totals_customer ON billing.totals (customer_id);
"""

PG_CHANGE = """
ALTER TABLE billing.customers ADD COLUMN name text;
ALTER TYPE billing.status ADD VALUE 'void';
DROP INDEX billing.totals_customer;
"""


def test_postgres_plan_diff_and_model_documents(pg_url: str, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "pg",
        pg_url,
        {"V1__billing.sql": PG_SCHEMA, "V2__change.sql": PG_CHANGE},
        extra=scratch_setting(pg_url),
    )
    ok(cli(project, "migrate", "--target", "1"))
    model = run_json(project, "inspect", "env:dev", "-f", "json")
    assert model["types"] and model["sequences"] and model["extensions"]
    validate("model", model)
    plan = run_json(project, "plan", "-f", "json", exit_codes=(0, 2))
    assert plan["changes"]["changes"]
    validate("plan", plan)
    diff = run_json(project, "diff", "migrations", "env:dev", "-f", "json", exit_codes=(0, 2))
    assert {c["kind"] for c in diff["changes"]} >= {"column", "index"}
    validate("diff", diff)


def test_status_document_on_mariadb(mysql_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path / "my", mysql_url, {"V1__t.sql": "CREATE TABLE t (id INT);\n"})
    ok(cli(project, "migrate"))
    status = run_json(project, "status", "--json")
    assert "T" in status["migrations"][0]["installed_on"]
    validate("status", status)
