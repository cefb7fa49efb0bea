SELECT EVENT_NAME AS name,
       EVENT_DEFINITION AS body,
       EVENT_TYPE AS type,
       EXECUTE_AT AS execute_at,
       INTERVAL_VALUE AS interval_value,
       INTERVAL_FIELD AS interval_field,
       STARTS AS starts,
       ENDS AS ends,
       STATUS AS status,
       ON_COMPLETION AS on_completion,
       SQL_MODE AS sql_mode,
       TIME_ZONE AS time_zone,
       EVENT_COMMENT AS comment
FROM information_schema.EVENTS
WHERE EVENT_SCHEMA = DATABASE()
