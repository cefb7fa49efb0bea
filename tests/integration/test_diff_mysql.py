"""The diff law on MariaDB: one ALTER TABLE per table, column order kept, rows kept."""

from __future__ import annotations

import pytest

from tests.lawcheck import check_law

pytestmark = pytest.mark.mysql

A = """
create table customers (id bigint primary key auto_increment, name varchar(100) not null,
  email varchar(50)) engine=InnoDB;
create table invoices (id bigint primary key auto_increment, customer_id bigint,
  amount decimal(10,2) not null, note text, key invoices_customer (customer_id),
  constraint invoices_customer_fk foreign key (customer_id) references customers(id));
create view big as select id, amount from invoices where amount > 100;
"""
B = """
create table customers (id bigint primary key auto_increment, name varchar(100) not null,
  region char(2) not null default 'eu', email varchar(200) unique, created datetime) engine=InnoDB
  comment='who pays';
create table invoices (id bigint primary key auto_increment, customer_id bigint not null,
  amount decimal(12,2) not null check (amount >= 0), key invoices_customer (customer_id, id),
  constraint invoices_customer_fk foreign key (customer_id) references customers(id)
  on delete cascade);
create view big as select id, amount, customer_id from invoices where amount > 100;
create table audit (id bigint primary key, at datetime);
"""


def test_grouped_alters_keep_column_order_and_rows(new_database):
    result = check_law(
        new_database,
        "mysql",
        A,
        B,
        seed="insert into customers (name, email) values ('ann', 'a@x');"
        "insert into invoices (customer_id, amount) values (1, 150), (1, 20);",
        check_rows="select id, customer_id, cast(amount as char) from invoices",
    )
    alters = [s for s in result.forward.statements() if s.startswith("ALTER TABLE `customers`")]
    assert len(alters) == 1 and "AFTER `name`" in alters[0]
