-- Which modelled object needs which other one to exist first, from pg_depend.
-- Sub-objects are folded into the object they belong to: a column default, a constraint, a
-- trigger, a policy or a rewrite rule counts as its table or view; a row type as its relation; an array type as its
-- element type. Each side comes out as (kind, oid) with kind 'rel', 'type' or 'proc'.
WITH RECURSIVE edges AS (
    SELECT classid, objid, refclassid, refobjid
      FROM pg_depend
     WHERE deptype = 'n' AND classid <> 0 AND refclassid <> 0
),
resolved AS (
    SELECT e.*,
           CASE e.classid
             WHEN 'pg_class'::regclass THEN 'rel'
             WHEN 'pg_attrdef'::regclass THEN 'rel'
             WHEN 'pg_rewrite'::regclass THEN 'rel'
             WHEN 'pg_proc'::regclass THEN 'proc'
             WHEN 'pg_type'::regclass THEN 'type'
             WHEN 'pg_constraint'::regclass THEN
               CASE WHEN con.conrelid <> 0 THEN 'rel' ELSE 'type' END
             WHEN 'pg_trigger'::regclass THEN 'rel'
             WHEN 'pg_policy'::regclass THEN 'rel'
           END AS from_kind,
           CASE e.classid
             WHEN 'pg_class'::regclass THEN e.objid
             WHEN 'pg_attrdef'::regclass THEN ad.adrelid
             WHEN 'pg_rewrite'::regclass THEN rw.ev_class
             WHEN 'pg_proc'::regclass THEN e.objid
             WHEN 'pg_type'::regclass THEN e.objid
             WHEN 'pg_constraint'::regclass THEN
               CASE WHEN con.conrelid <> 0 THEN con.conrelid ELSE con.contypid END
             WHEN 'pg_trigger'::regclass THEN tg.tgrelid
             WHEN 'pg_policy'::regclass THEN pol.polrelid
           END AS from_oid,
           CASE e.refclassid
             WHEN 'pg_class'::regclass THEN 'rel'
             WHEN 'pg_proc'::regclass THEN 'proc'
             WHEN 'pg_type'::regclass THEN 'type'
           END AS to_kind,
           e.refobjid AS to_oid
      FROM edges e
      LEFT JOIN pg_attrdef ad ON e.classid = 'pg_attrdef'::regclass AND ad.oid = e.objid
      LEFT JOIN pg_rewrite rw ON e.classid = 'pg_rewrite'::regclass AND rw.oid = e.objid
      LEFT JOIN pg_constraint con ON e.classid = 'pg_constraint'::regclass AND con.oid = e.objid
      LEFT JOIN pg_trigger tg ON e.classid = 'pg_trigger'::regclass AND tg.oid = e.objid
      LEFT JOIN pg_policy pol ON e.classid = 'pg_policy'::regclass AND pol.oid = e.objid
     WHERE e.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
),
-- A type that is an array, or a relation's row type, stands for what it is made of.
types(oid, kind, target) AS (
    SELECT t.oid,
           CASE WHEN t.typrelid <> 0 AND c.relkind <> 'c' THEN 'rel' ELSE 'type' END,
           CASE WHEN t.typrelid <> 0 AND c.relkind <> 'c' THEN t.typrelid
                WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem
                ELSE t.oid END
      FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
     WHERE t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
        OR t.typcategory = 'A'
)
SELECT DISTINCT
       CASE WHEN r.from_kind = 'type' THEN coalesce(ft.kind, 'type') ELSE r.from_kind END
         AS from_kind,
       CASE WHEN r.from_kind = 'type' THEN coalesce(ft.target, r.from_oid) ELSE r.from_oid END
         AS from_oid,
       CASE WHEN r.to_kind = 'type' THEN coalesce(tt.kind, 'type') ELSE r.to_kind END AS to_kind,
       CASE WHEN r.to_kind = 'type' THEN coalesce(tt.target, r.to_oid) ELSE r.to_oid END AS to_oid
  FROM resolved r
  LEFT JOIN types ft ON r.from_kind = 'type' AND ft.oid = r.from_oid
  LEFT JOIN types tt ON r.to_kind = 'type' AND tt.oid = r.to_oid
 WHERE r.from_kind IS NOT NULL AND r.from_oid IS NOT NULL
