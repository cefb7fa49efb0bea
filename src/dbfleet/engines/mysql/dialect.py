"""MariaDB/MySQL as data: quoting, history-table SQL, script splitting (no driver, no I/O)."""

from __future__ import annotations

import re
from typing import ClassVar

from dbfleet.engines.base import Dialect, Statement


class MysqlDialect(Dialect):
    lock_timeout_settings = frozenset({"lock_wait_timeout", "innodb_lock_wait_timeout"})
    statement_timeout_settings = frozenset({"max_statement_time", "max_execution_time"})
    max_identifier = 64
    hash_comments = True
    display_name: ClassVar[str] = "MariaDB/MySQL"
    name: ClassVar[str] = "mysql"
    transactional_ddl: ClassVar[bool] = False
    identifier_quote: ClassVar[str] = "`"
    rank_column: ClassVar[str] = "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"
    timestamp_column: ClassVar[str] = "TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
    boolean_column: ClassVar[str] = "TINYINT(1) NOT NULL"
    true_literal: ClassVar[str] = "1"
    false_literal: ClassVar[str] = "0"
    backslash_escapes: ClassVar[bool] = True
    leading_noise: ClassVar[re.Pattern[str]] = re.compile(
        r"^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S
    )

    def split(self, script: str) -> list[Statement]:
        from dbfleet.engines.mysql.split import split

        return split(script)

    def render_statement(self, sql: str) -> str:
        # A routine body holds semicolons: a client needs another delimiter to send it whole.
        if ";" in sql:
            return f"DELIMITER $$\n{sql}$$\nDELIMITER ;"
        return sql + ";"

    def create_history_table(self, table: str, schema: str | None) -> list[str]:
        return [stmt + " ENGINE=InnoDB" for stmt in super().create_history_table(table, schema)]


DIALECT = MysqlDialect()
