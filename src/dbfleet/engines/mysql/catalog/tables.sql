SELECT t.TABLE_NAME AS name,
       t.TABLE_TYPE AS type,
       t.ENGINE AS engine,
       t.TABLE_COLLATION AS collation,
       c.CHARACTER_SET_NAME AS charset,
       t.CREATE_OPTIONS AS options,
       t.TABLE_COMMENT AS comment
FROM information_schema.TABLES t
LEFT JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION
WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE <> 'VIEW'
