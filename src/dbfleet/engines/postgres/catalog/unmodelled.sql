-- Objects dbfleet does not model yet: they are reported as warnings, never silently dropped.
SELECT 'foreign table' AS kind, n.nspname || '.' || c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'f' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'rule', n.nspname || '.' || c.relname || '.' || r.rulename
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'event trigger', evtname FROM pg_event_trigger e
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = e.oid AND d.deptype = 'e')
UNION ALL
SELECT 'publication', pubname FROM pg_publication
UNION ALL
SELECT 'collation', n.nspname || '.' || co.collname
  FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
 WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = co.oid AND d.deptype = 'e')
UNION ALL
SELECT 'statistics object', n.nspname || '.' || s.stxname
  FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
 WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'aggregate', n.nspname || '.' || p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prokind = 'a' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'operator', n.nspname || '.' || o.oprname
  FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
 WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid AND d.deptype = 'e')
UNION ALL
SELECT 'text search configuration', n.nspname || '.' || t.cfgname
  FROM pg_ts_config t JOIN pg_namespace n ON n.oid = t.cfgnamespace
 WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
UNION ALL
SELECT 'trigger firing mode (ENABLE REPLICA/ALWAYS) of', n.nspname || '.' || c.relname || '.' || t.tgname
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND t.tgenabled IN ('R', 'A')
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'replica identity of', n.nspname || '.' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND c.relreplident NOT IN ('d')
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'typed table (OF type)', n.nspname || '.' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.reloftype <> 0 AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'storage, compression or statistics target of column', n.nspname || '.' || c.relname || '.' || a.attname
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid
 WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attstorage <> ty.typstorage OR a.attcompression <> '' OR coalesce(a.attstattarget, -1) >= 0)
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'TOAST storage options of', n.nspname || '.' || c.relname
  FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE t.reloptions IS NOT NULL AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'unlogged sequence', n.nspname || '.' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND c.relpersistence = 'u'
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'comment on identity sequence', n.nspname || '.' || s.relname
  FROM pg_depend d JOIN pg_class s ON s.oid = d.objid JOIN pg_class c ON c.oid = d.refobjid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
  JOIN pg_namespace n ON n.oid = s.relnamespace
 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'i' AND s.relkind = 'S'
   AND obj_description(s.oid, 'pg_class') IS NOT NULL
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'comment on composite type attribute', n.nspname || '.' || c.relname || '.' || a.attname
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'c' AND a.attnum > 0 AND col_description(c.oid, a.attnum) IS NOT NULL
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
UNION ALL
SELECT 'comment on domain constraint', n.nspname || '.' || t.typname || '.' || con.conname
  FROM pg_constraint con JOIN pg_type t ON t.oid = con.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE obj_description(con.oid, 'pg_constraint') IS NOT NULL
ORDER BY 1, 2
