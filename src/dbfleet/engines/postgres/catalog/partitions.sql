-- One table and its partitions: the table's relkind ('p' when it is partitioned) on every row,
-- and per partition its name and bound expression (FOR VALUES FROM (...) TO (...), DEFAULT).
-- No row: the table does not exist. {schema} and {table} are quoted literals.
SELECT parent.relkind AS kind,
       child.relname AS name,
       pg_get_expr(child.relpartbound, child.oid) AS bound
FROM pg_class parent
JOIN pg_namespace n ON n.oid = parent.relnamespace
LEFT JOIN pg_inherits i ON i.inhparent = parent.oid
LEFT JOIN pg_class child ON child.oid = i.inhrelid
WHERE n.nspname = {schema} AND parent.relname = {table}
