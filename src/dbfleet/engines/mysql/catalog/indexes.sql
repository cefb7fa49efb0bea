-- One row per index part; PRIMARY is the primary key.
SELECT TABLE_NAME AS table_name,
       INDEX_NAME AS name,
       SEQ_IN_INDEX AS seq,
       COLUMN_NAME AS column_name,
       SUB_PART AS sub_part,
       COLLATION AS collation,
       NON_UNIQUE = 0 AS is_unique,
       INDEX_TYPE AS index_type,
       INDEX_COMMENT AS comment,
       IGNORED = 'YES' AS ignored
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
