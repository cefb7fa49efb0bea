SELECT t.oid, t.typrelid, n.nspname AS schema, t.typname AS name,
       CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range'
                      WHEN 'd' THEN 'domain' END AS kind,
       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
         WHERE e.enumtypid = t.oid) AS labels,
       (SELECT array_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                         || CASE WHEN a.attcollation <> at.typcollation
                                 THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END
                         ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
          LEFT JOIN pg_collation co ON co.oid = a.attcollation
         WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes,
       (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) AS subtype,
       (SELECT CASE WHEN r.rngsubopc <> (SELECT oc.oid FROM pg_opclass oc
                                         WHERE oc.opcintype = r.rngsubtype AND oc.opcdefault
                                           AND oc.opcmethod = 403 LIMIT 1)
               THEN (SELECT opcname FROM pg_opclass WHERE oid = r.rngsubopc) END
          FROM pg_range r WHERE r.rngtypid = t.oid) AS subtype_opclass,
       (SELECT r.rngsubdiff::regproc::text FROM pg_range r
         WHERE r.rngtypid = t.oid AND r.rngsubdiff <> 0) AS subtype_diff,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       t.typnotnull AS not_null,
       pg_get_expr(t.typdefaultbin, 0) AS default,
       CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation THEN
         (SELECT quote_ident(collname) FROM pg_collation WHERE oid = t.typcollation) END AS collation,
       (SELECT array_agg('CONSTRAINT ' || quote_ident(con.conname) || ' '
                         || pg_get_constraintdef(con.oid, true) ORDER BY con.conname)
          FROM pg_constraint con WHERE con.contypid = t.oid AND con.convalidated) AS constraints,
       -- NOT VALID domain constraints can only be added by ALTER DOMAIN
       (SELECT array_agg('CONSTRAINT ' || quote_ident(con.conname) || ' '
                         || pg_get_constraintdef(con.oid, true) ORDER BY con.conname)
          FROM pg_constraint con WHERE con.contypid = t.oid AND NOT con.convalidated)
         AS unvalidated_constraints,
       obj_description(t.oid, 'pg_type') AS comment
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE (t.typtype IN ('e', 'r', 'd')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                  AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
