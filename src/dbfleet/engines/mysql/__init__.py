"""MariaDB/MySQL: PyMySQL, GET_LOCK, DDL that commits implicitly."""
