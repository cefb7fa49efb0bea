SELECT p.oid, n.nspname AS schema, p.proname AS name,
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END AS kind,
       pg_get_function_identity_arguments(p.oid) AS signature,
       oidvectortypes(p.proargtypes) AS input_types,
       CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid) END AS definition,
       obj_description(p.oid, 'pg_proc') AS comment,
       p.proacl::text[] AS acl
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype IN ('e', 'i'))  -- range constructors etc.
ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)
