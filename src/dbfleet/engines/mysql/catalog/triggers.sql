-- In firing order: creating them again in this order gives them the same ACTION_ORDER.
SELECT EVENT_OBJECT_TABLE AS table_name,
       TRIGGER_NAME AS name,
       ACTION_TIMING AS timing,
       EVENT_MANIPULATION AS event,
       ACTION_ORDER AS action_order,
       ACTION_STATEMENT AS body,
       SQL_MODE AS sql_mode
FROM information_schema.TRIGGERS
WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND TRIGGER_SCHEMA = DATABASE()
ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER
