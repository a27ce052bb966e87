import { raw, sql, type Sql } from '../sql.js';

// Objects that belong to an extension go with it; array and multirange types go with their element type.
const NOT_EXTENSION_MEMBER = (catalog: string, alias: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${alias}.oid AND d.deptype = 'e')`;

/** Objects that are only a name in a schema: [drop order, kind, catalog, name column, schema column]. */
const NAMED_OBJECTS = [
  [8, 'COLLATION', 'pg_collation', 'collname', 'collnamespace'],
  [8, 'CONVERSION', 'pg_conversion', 'conname', 'connamespace'],
  [8, 'TEXT SEARCH CONFIGURATION', 'pg_ts_config', 'cfgname', 'cfgnamespace'],
  [9, 'TEXT SEARCH DICTIONARY', 'pg_ts_dict', 'dictname', 'dictnamespace'],
  [10, 'TEXT SEARCH PARSER', 'pg_ts_parser', 'prsname', 'prsnamespace'],
  [10, 'TEXT SEARCH TEMPLATE', 'pg_ts_template', 'tmplname', 'tmplnamespace'],
] as const;

function namedObjectDrops([priority, kind, catalog, name, namespace]: (typeof NAMED_OBJECTS)[number]): string {
  return `SELECT ${priority}, 'DROP ${kind} IF EXISTS ' || format('%I.%I', n.nspname, c.${name}) || ' CASCADE'
        FROM ${catalog} c JOIN pg_namespace n ON n.oid = c.${namespace}
       WHERE n.nspname = (SELECT name FROM target) AND ${NOT_EXTENSION_MEMBER(catalog, 'c')}
      UNION ALL
      `;
}

/**
 * Every object a migration can create in the managed schema, as DROP statements in an order that works: views,
 * tables (their indexes, constraints, triggers, policies, rules and statistics go with them), free sequences,
 * types and domains, routines and aggregates, operators and their classes and families, collations, text search
 * objects, conversions, and last the extensions installed in the schema. CASCADE and IF EXISTS, since one drop
 * may take another object of the list with it. Database-wide objects (event triggers, publications,
 * subscriptions, roles) are not in a schema and are left alone.
 */
export function dropEverythingQuery(schema: string | undefined): Sql {
  return sql`
    WITH target AS (SELECT coalesce(${schema ?? null}::text, current_schema()) AS name)
    SELECT statement FROM (
      SELECT CASE c.relkind WHEN 'v' THEN 1 WHEN 'm' THEN 1 WHEN 'S' THEN 3 ELSE 2 END AS priority,
             'DROP ' || CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
               WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END
             || ' IF EXISTS ' || format('%I.%I', n.nspname, c.relname) || ' CASCADE' AS statement
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = (SELECT name FROM target)
         AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'i', 'a') AND c.relkind = 'S')
         AND ${raw(NOT_EXTENSION_MEMBER('pg_class', 'c'))}
      UNION ALL
      SELECT 4, 'DROP ' || CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END
             || ' IF EXISTS ' || format('%I.%I', n.nspname, t.typname) || ' CASCADE'
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = (SELECT name FROM target)
         AND t.typtype IN ('b', 'e', 'd', 'r', 'c', 'p')
         AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype IN ('e', 'i'))
      UNION ALL
      SELECT 5, 'DROP ' || CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END || ' IF EXISTS '
             || p.oid::regprocedure::text || ' CASCADE'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = (SELECT name FROM target) AND ${raw(NOT_EXTENSION_MEMBER('pg_proc', 'p'))}
      UNION ALL
      SELECT 6, 'DROP OPERATOR IF EXISTS ' || format('%I.%s', n.nspname, o.oprname) || ' ('
             || CASE WHEN o.oprleft = 0 THEN 'NONE' ELSE o.oprleft::regtype::text END || ', '
             || CASE WHEN o.oprright = 0 THEN 'NONE' ELSE o.oprright::regtype::text END || ') CASCADE'
        FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
       WHERE n.nspname = (SELECT name FROM target) AND ${raw(NOT_EXTENSION_MEMBER('pg_operator', 'o'))}
      UNION ALL
      SELECT 7, 'DROP OPERATOR FAMILY IF EXISTS ' || format('%I.%I USING %I', n.nspname, f.opfname, a.amname) || ' CASCADE'
        FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am a ON a.oid = f.opfmethod
       WHERE n.nspname = (SELECT name FROM target) AND ${raw(NOT_EXTENSION_MEMBER('pg_opfamily', 'f'))}
      UNION ALL
      SELECT 7, 'DROP OPERATOR CLASS IF EXISTS ' || format('%I.%I USING %I', n.nspname, c.opcname, a.amname) || ' CASCADE'
        FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_am a ON a.oid = c.opcmethod
       WHERE n.nspname = (SELECT name FROM target) AND ${raw(NOT_EXTENSION_MEMBER('pg_opclass', 'c'))}
      UNION ALL
      ${raw(NAMED_OBJECTS.map(namedObjectDrops).join(''))}
      SELECT 11, 'DROP EXTENSION IF EXISTS ' || format('%I', e.extname) || ' CASCADE'
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
       WHERE n.nspname = (SELECT name FROM target)
    ) objects ORDER BY priority, statement`;
}
