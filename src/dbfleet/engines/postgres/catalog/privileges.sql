-- Explicit privileges (aclexplode of every ACL) and owners of the objects dbfleet models.
-- Grants to an object's owner are implied by ownership and left out.
WITH objects AS (
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
           n.nspname AS schema_name, c.relname AS object_name,
           quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
           c.relowner AS owner, c.relacl AS acl,
           CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                          WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS owner_kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname !~ '^pg_'
       AND n.nspname <> 'information_schema'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                       AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
           n.nspname, p.proname,
           quote_ident(n.nspname) || '.' || quote_ident(p.proname)
             || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           p.proowner, p.proacl, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' AND p.prokind <> 'a'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                       AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
    UNION ALL
    SELECT 'SCHEMA', n.nspname, n.nspname, quote_ident(n.nspname), n.nspowner, n.nspacl, 'SCHEMA'
      FROM pg_namespace n
     WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
           n.nspname, t.typname,
           quote_ident(n.nspname) || '.' || quote_ident(t.typname), t.typowner, t.typacl,
           CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype IN ('e', 'r', 'd', 'c') AND n.nspname !~ '^pg_'
       AND n.nspname <> 'information_schema'
       AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                       AND d.objid = t.oid AND d.deptype IN ('e', 'i'))
)
SELECT 'grant' AS what, o.kind, o.schema_name, o.object_name, o.name, NULL::text AS columns,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
         AS role,
       a.privilege_type AS privilege, a.is_grantable AS grantable
  FROM objects o, aclexplode(o.acl) a
 WHERE a.grantee <> o.owner
UNION ALL
SELECT 'grant', 'TABLE', n.nspname, c.relname,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       quote_ident(att.attname),
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
       a.privilege_type, a.is_grantable
  FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(att.attacl) a
 WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' AND a.grantee <> c.relowner
UNION ALL
-- Functions grant EXECUTE to PUBLIC by default; an explicit ACL without it means a REVOKE.
SELECT 'revoke', o.kind, o.schema_name, o.object_name, o.name, NULL, 'PUBLIC', 'EXECUTE', false
  FROM objects o
 WHERE o.kind IN ('FUNCTION', 'PROCEDURE') AND o.acl IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM aclexplode(o.acl) a WHERE a.grantee = 0
                   AND a.privilege_type = 'EXECUTE')
UNION ALL
SELECT 'owner', o.owner_kind, o.schema_name, o.object_name, o.name, NULL,
       quote_ident(pg_get_userbyid(o.owner)), NULL, NULL
  FROM objects o
ORDER BY 1, 2, 5, 6, 7, 8
