"""MariaDB/MySQL as data: quoting, history-table SQL, script splitting (no driver, no I/O)."""

from __future__ import annotations

from typing import ClassVar

from dbfleet.engines.base import Dialect, Statement


class MysqlDialect(Dialect):
    name: ClassVar[str] = "mysql"
    transactional_ddl: ClassVar[bool] = False
    identifier_quote: ClassVar[str] = "`"
    rank_column: ClassVar[str] = "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"
    timestamp_column: ClassVar[str] = "TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
    boolean_column: ClassVar[str] = "TINYINT(1) NOT NULL"
    true_literal: ClassVar[str] = "1"
    false_literal: ClassVar[str] = "0"
    backslash_escapes: ClassVar[bool] = True

    def split(self, script: str) -> list[Statement]:
        from dbfleet.engines.mysql.split import split

        return split(script)

    def create_history_table(self, table: str, schema: str | None) -> list[str]:
        return [stmt + " ENGINE=InnoDB" for stmt in super().create_history_table(table, schema)]


DIALECT = MysqlDialect()
