SELECT c.oid, n.nspname AS schema, c.relname AS name,
       format_type(s.seqtypid, NULL) AS type, s.seqstart AS start, s.seqincrement AS increment,
       s.seqmin AS minimum, s.seqmax AS maximum, s.seqcache AS cache, s.seqcycle AS cycle,
       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || E'\t' || a.attname
          FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a') AS owned_by,
       obj_description(c.oid, 'pg_class') AS comment
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  -- identity columns own their sequences
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype IN ('i', 'e'))
ORDER BY n.nspname, c.relname
