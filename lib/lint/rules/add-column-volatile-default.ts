import type { LintRule, RuleHit } from '../rule.js';
import { alterCommands, findNodes, locationOf, nodeOf, relationName } from '../rule.js';

// Functions whose value changes per row: as a new column's default, each row needs its own, so the table is rewritten.
const VOLATILE = new Set([
  'random', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'uuidv4', 'uuidv7',
  'clock_timestamp', 'timeofday', 'nextval', 'txid_current', 'pg_current_xact_id',
]);
const SERIAL = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

const nameOf = (names: unknown) => ((names as unknown[]) ?? []).map((part) => String(nodeOf(part, 'String')?.sval ?? '')).at(-1) ?? '';

/** `ADD COLUMN` whose default differs per row (a volatile function, serial, identity, a stored generated column). */
export const addColumnVolatileDefault: LintRule = {
  id: 'add-column-volatile-default',
  why:
    'a new column with a default that differs per row (random(), gen_random_uuid(), clock_timestamp(), nextval(), serial, ' +
    'identity, a stored generated column) rewrites the whole table under an ACCESS EXCLUSIVE lock; a constant or now() does not (PostgreSQL 11+)',
  recipe:
    'add the column without a default (or with a constant one), set the default for new rows with ALTER COLUMN … SET DEFAULT, ' +
    'and backfill existing rows in batches in later migrations',
  check(statement, context) {
    if (statement.type !== 'AlterTableStmt' || context.isNew(statement.node.relation)) return [];
    const hits: RuleHit[] = [];
    for (const command of alterCommands(statement)) {
      const column = command.subtype === 'AT_AddColumn' ? nodeOf(command.def, 'ColumnDef') : undefined;
      if (column === undefined) continue;
      const where = `column ${String(column.colname)} added to existing table ${relationName(statement.node.relation)}`;
      const type = nameOf(nodeOf(column.typeName, 'TypeName')?.names ?? (column.typeName as { names?: unknown })?.names);
      if (SERIAL.has(type)) hits.push({ at: locationOf(column) ?? statement.start, detail: `${where} as ${type}` });
      for (const wrapped of (column.constraints as unknown[]) ?? []) {
        const constraint = nodeOf(wrapped, 'Constraint') ?? {};
        if (constraint.contype === 'CONSTR_IDENTITY') hits.push({ at: locationOf(constraint) ?? statement.start, detail: `${where} as an identity column` });
        if (constraint.contype === 'CONSTR_GENERATED') hits.push({ at: locationOf(constraint) ?? statement.start, detail: `${where} as a stored generated column` });
        if (constraint.contype !== 'CONSTR_DEFAULT') continue;
        const volatile = findNodes(constraint.raw_expr, 'FuncCall').find((call) => VOLATILE.has(nameOf(call.funcname)));
        if (volatile) hits.push({ at: locationOf(constraint) ?? statement.start, detail: `${where} with the volatile default ${nameOf(volatile.funcname)}()` });
      }
    }
    return hits;
  },
};
