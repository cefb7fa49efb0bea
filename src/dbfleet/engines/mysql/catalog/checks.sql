-- LEVEL is 'Column' for a CHECK written on a column (named after the column), else 'Table'.
SELECT TABLE_NAME AS table_name,
       CONSTRAINT_NAME AS name,
       LEVEL AS level,
       CHECK_CLAUSE AS clause
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
