SELECT con.conrelid AS table_oid, con.conname AS name, con.contype AS kind,
       pg_get_constraintdef(con.oid, true) AS definition,
       (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num) AS columns,
       fn.nspname AS ref_schema, fc.relname AS ref_table,
       (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num) AS ref_columns,
       con.convalidated AS validated,
       obj_description(con.oid, 'pg_constraint') AS comment
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND con.conislocal            -- inherited CHECKs come with the parent
  AND con.conparentid = 0       -- constraints cloned onto partitions come with the parent
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY con.conrelid, con.contype, con.conname
