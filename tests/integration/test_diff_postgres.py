"""The diff law on PostgreSQL: apply diff(A, B) to A and get B; both ways; with the data."""

from __future__ import annotations

import pytest

from dbfleet.diff import Options
from tests.lawcheck import check_law

pytestmark = pytest.mark.postgres

BILLING_A = """
create type mood as enum ('sad','ok','happy');
create table customers (id bigint generated always as identity primary key, name text not null,
  email varchar(50), m mood default 'ok');
create table invoices (id serial primary key, customer_id bigint references customers(id),
  amount numeric(10,2) not null, note text);
create index invoices_customer on invoices(customer_id);
create view big as select id, amount from invoices where amount > 100;
create function total(c bigint) returns numeric language sql
  as $$ select sum(amount) from invoices where customer_id = c $$;
"""
BILLING_B = """
create type mood as enum ('sad','meh','ok','happy','ecstatic');
create table customers (id bigint generated always as identity primary key, name text not null,
  email text unique, m mood default 'happy', created timestamptz default now());
create table invoices (id serial primary key,
  customer_id bigint not null references customers(id) on delete cascade,
  amount numeric(12,2) not null check (amount >= 0));
create index invoices_customer on invoices(customer_id, id);
create view big as select id, amount, customer_id from invoices where amount > 100;
create function total(c bigint) returns numeric language sql
  as $$ select coalesce(sum(amount),0) from invoices where customer_id = c $$;
create table audit (id bigint primary key, at timestamptz);
"""


def test_a_typical_change_set_applies_both_ways_and_keeps_rows(new_database):
    result = check_law(
        new_database,
        "postgresql",
        BILLING_A,
        BILLING_B,
        seed="insert into customers (name, email) values ('ann', 'a@x');"
        "insert into invoices (customer_id, amount) values (1, 150), (1, 20);",
        check_rows="select id, customer_id, amount::text from invoices",
    )
    codes = {h.code for _, h in result.forward.hazards()}
    assert {"data_loss", "full_scan", "index_build"} <= codes
    assert {"data_loss"} <= {h.code for _, h in result.backward.hazards()}  # enum value removed


def test_online_mode_uses_not_valid_concurrently_and_a_lock_timeout(new_database):
    result = check_law(
        new_database, "postgresql", BILLING_A, BILLING_B, options=Options(online=True)
    )
    sql = result.forward.statements()
    assert sql[0].startswith("SET lock_timeout")
    assert any("NOT VALID" in s for s in sql)
    assert any("VALIDATE CONSTRAINT" in s for s in sql)
    assert any(s.startswith("CREATE INDEX CONCURRENTLY") for s in sql)
    assert any(s.startswith("DROP INDEX CONCURRENTLY") for s in sql)


def test_a_view_over_a_column_whose_type_changes_is_dropped_first_and_recreated(new_database):
    a = (
        "create table t (id int primary key, v int); create view v1 as select v from t;"
        "create view v2 as select v from v1;"
    )
    b = (
        "create table t (id int primary key, v bigint); create view v1 as select v from t;"
        "create view v2 as select v from v1;"
    )
    result = check_law(new_database, "postgresql", a, b)
    order = [f"{c.action} {c.name}" for c in result.forward.changes]
    assert (
        order.index("drop public.v2")
        < order.index("drop public.v1")
        < order.index("alter public.t.v")
        < order.index("create public.v1")
        < order.index("create public.v2")
    )


def test_tables_referencing_each_other_are_created_and_dropped(new_database):
    b = """
    create table a (id int primary key, b_id int);
    create table b (id int primary key, a_id int references a(id));
    alter table a add foreign key (b_id) references b(id);
    """
    check_law(new_database, "postgresql", "", b)


def test_rename_keeps_the_rows_instead_of_drop_and_add(new_database):
    a = "create table t (id int primary key, amount int);"
    b = "create table t (id int primary key, total int);"
    result = check_law(
        new_database,
        "postgresql",
        a,
        b,
        options=Options(renames=(("public.t.amount", "total"),)),
        seed="insert into t values (1, 42);",
        check_rows="select * from t",
    )
    assert any("RENAME COLUMN" in s for s in result.forward.statements())
    plain = check_law(new_database, "postgresql", a, b)
    assert "possible_rename" in {h.code for _, h in plain.forward.hazards()}


def test_identical_schemas_have_an_empty_diff(new_database):
    result = check_law(new_database, "postgresql", BILLING_A, BILLING_A)
    assert not result.forward and not result.backward
