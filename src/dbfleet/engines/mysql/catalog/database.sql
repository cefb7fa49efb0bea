-- The connected database and the server defaults that stored programs are compared against.
SELECT s.SCHEMA_NAME AS name,
       s.DEFAULT_CHARACTER_SET_NAME AS charset,
       s.DEFAULT_COLLATION_NAME AS collation,
       @@GLOBAL.sql_mode AS sql_mode,
       @@GLOBAL.time_zone AS time_zone,
       VERSION() AS version
FROM information_schema.SCHEMATA s
WHERE s.SCHEMA_NAME = DATABASE()
