-- Views have rows here too; the inspector keeps the ones of tables.
SELECT TABLE_NAME AS table_name,
       COLUMN_NAME AS name,
       ORDINAL_POSITION AS position,
       COLUMN_TYPE AS type,
       IS_NULLABLE = 'YES' AS nullable,
       COLUMN_DEFAULT AS `default`,
       EXTRA AS extra,
       IS_GENERATED = 'ALWAYS' AS is_generated,
       GENERATION_EXPRESSION AS generated,
       CHARACTER_SET_NAME AS charset,
       COLLATION_NAME AS collation,
       COLUMN_COMMENT AS comment
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
