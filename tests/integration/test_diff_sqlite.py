"""The diff law on SQLite: tables SQLite cannot alter are rebuilt, and their rows survive."""

from __future__ import annotations

from tests.lawcheck import check_law

A = """
create table customers (id integer primary key, name text not null, email text);
create table invoices (
  id integer primary key autoincrement,
  customer_id integer references customers(id) on delete cascade,
  amount real not null, note text
);
create index invoices_customer on invoices(customer_id);
create view big as select id, amount from invoices where amount > 100;
create trigger no_negative before insert on invoices when new.amount < 0
begin select raise(abort, 'negative'); end;
"""
B = """
create table customers (id integer primary key, name text not null, email text unique,
  created text default current_timestamp);
create table invoices (
  id integer primary key autoincrement,
  customer_id integer not null references customers(id) on delete cascade,
  amount numeric not null check (amount >= 0)
);
create index invoices_customer on invoices(customer_id, id);
create view big as select id, amount, customer_id from invoices where amount > 100;
create trigger no_negative before insert on invoices when new.amount < 0
begin select raise(abort, 'negative'); end;
create table audit (id integer primary key, at text);
"""


def test_rebuilt_tables_keep_their_rows_children_and_dependants(new_database):
    result = check_law(
        new_database,
        "sqlite",
        A,
        B,
        seed="insert into customers (name, email) values ('ann', 'a@x');"
        "insert into invoices (customer_id, amount, note) values (1, 150, 'n'), (1, 20, null);",
        check_rows="select id, customer_id, amount from invoices",
    )
    sql = result.forward.statements()
    assert "PRAGMA legacy_alter_table = ON;" in sql
    assert {"table_rewrite", "data_loss"} <= {h.code for _, h in result.forward.hazards()}


def test_only_an_index_changes_no_rebuild(new_database):
    a = "create table t (id integer primary key, v text); create index tv on t(v);"
    b = "create table t (id integer primary key, v text); create index tv on t(v, id);"
    result = check_law(new_database, "sqlite", a, b)
    assert result.forward.statements() == [
        'DROP INDEX "tv";',
        "CREATE INDEX tv on t(v, id);",
    ] or not any("RENAME" in s for s in result.forward.statements())


def test_a_column_rename_carries_the_values(new_database):
    from dbfleet.diff import Options

    result = check_law(
        new_database,
        "sqlite",
        "create table t (id integer primary key, amount int);",
        "create table t (id integer primary key, total int);",
        options=Options(renames=(("t.amount", "total"),)),
        seed="insert into t values (1, 42);",
    )
    assert any("SELECT id, amount" in s for s in result.forward.statements())
