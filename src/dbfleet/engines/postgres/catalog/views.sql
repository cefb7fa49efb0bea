SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized,
       pg_get_viewdef(c.oid, true) AS definition,
       c.reloptions AS options,
       obj_description(c.oid, 'pg_class') AS comment,
       c.relacl::text[] AS acl,
       -- the relations and routines the view reads, for ordering
       (SELECT array_agg(DISTINCT d.refobjid) FROM pg_rewrite r
          JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
         WHERE r.ev_class = c.oid AND d.refobjid <> c.oid
           AND d.refclassid = 'pg_class'::regclass) AS depends_on
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
