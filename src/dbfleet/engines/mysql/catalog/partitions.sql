-- One row per partition, or per subpartition of a subpartitioned table.
SELECT TABLE_NAME AS table_name,
       PARTITION_NAME AS name,
       SUBPARTITION_NAME AS subpartition,
       PARTITION_METHOD AS method,
       PARTITION_EXPRESSION AS expression,
       SUBPARTITION_METHOD AS sub_method,
       SUBPARTITION_EXPRESSION AS sub_expression,
       PARTITION_DESCRIPTION AS description,
       PARTITION_COMMENT AS comment
FROM information_schema.PARTITIONS
WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL
ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION
