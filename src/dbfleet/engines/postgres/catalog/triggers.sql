SELECT t.tgrelid AS table_oid, t.tgname AS name,
       pg_get_triggerdef(t.oid, true) AS definition,
       t.tgenabled AS enabled,
       obj_description(t.oid, 'pg_trigger') AS comment
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0          -- triggers cloned onto partitions come with the parent
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY t.tgrelid, t.tgname
