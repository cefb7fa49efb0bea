"""PostgreSQL: psycopg 3, advisory locks, transactional DDL."""
