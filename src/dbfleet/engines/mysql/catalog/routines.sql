-- ROUTINE_DEFINITION is the body as it was written (comments included).
SELECT ROUTINE_NAME AS name,
       ROUTINE_TYPE AS kind,
       DTD_IDENTIFIER AS returns,
       CHARACTER_SET_NAME AS charset,
       COLLATION_NAME AS collation,
       ROUTINE_DEFINITION AS body,
       IS_DETERMINISTIC = 'YES' AS is_deterministic,
       SQL_DATA_ACCESS AS data_access,
       SECURITY_TYPE AS security,
       SQL_MODE AS sql_mode,
       ROUTINE_COMMENT AS comment
FROM information_schema.ROUTINES
WHERE ROUTINE_SCHEMA = DATABASE()
