SELECT p.polrelid AS table_oid, p.polname AS name,
       p.polpermissive AS permissive,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       (SELECT array_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END
                         ORDER BY 1)
          FROM unnest(p.polroles) r) AS roles,
       pg_get_expr(p.polqual, p.polrelid, true) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid, true) AS check_expr,
       obj_description(p.oid, 'pg_policy') AS comment
FROM pg_policy p
ORDER BY p.polrelid, p.polname
