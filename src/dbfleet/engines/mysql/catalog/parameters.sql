-- Position 0 is a function's return value, which routines.sql already has.
SELECT SPECIFIC_NAME AS routine,
       ROUTINE_TYPE AS kind,
       PARAMETER_MODE AS mode,
       PARAMETER_NAME AS name,
       DTD_IDENTIFIER AS type,
       CHARACTER_SET_NAME AS charset,
       COLLATION_NAME AS collation
FROM information_schema.PARAMETERS
WHERE SPECIFIC_SCHEMA = DATABASE() AND ORDINAL_POSITION > 0
ORDER BY SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION
