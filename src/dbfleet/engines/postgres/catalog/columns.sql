SELECT a.attrelid AS table_oid, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
       CASE a.attgenerated WHEN 's' THEN 'STORED' WHEN 'v' THEN 'VIRTUAL' END AS generated_kind,
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity,
       CASE WHEN a.attcollation <> t.typcollation THEN
         (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co
            JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
       END AS collation,
       a.attislocal AS local,
       (SELECT CASE WHEN sc.relname <> c.relname || '_' || a.attname || '_seq'
                     OR sc.relnamespace <> c.relnamespace
                    THEN 'SEQUENCE NAME ' || quote_ident(scn.nspname) || '.'
                         || quote_ident(sc.relname) || ' '
                    ELSE '' END
               || 'START WITH ' || s.seqstart || ' INCREMENT BY ' || s.seqincrement
               || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax || ' CACHE ' || s.seqcache
               || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END
          FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
          JOIN pg_class sc ON sc.oid = s.seqrelid
          JOIN pg_namespace scn ON scn.oid = sc.relnamespace
         WHERE a.attidentity <> '' AND d.classid = 'pg_class'::regclass
           AND d.refclassid = 'pg_class'::regclass  -- lets pg_depend_reference_index serve it
           AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND d.deptype = 'i')
         AS identity_options,
       col_description(a.attrelid, a.attnum) AS comment,
       a.attacl::text[] AS acl
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY a.attrelid, a.attnum
