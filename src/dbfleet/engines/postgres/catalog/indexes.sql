SELECT i.indrelid AS table_oid, ic.relname AS name, i.indisunique AS unique,
       pg_get_indexdef(i.indexrelid) AS definition,
       (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY k(num, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num) AS columns,
       obj_description(i.indexrelid, 'pg_class') AS comment
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  -- indexes that back a constraint are created by the constraint
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid
                  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
  -- partitions get their parent's indexes automatically
  AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY i.indrelid, ic.relname
