import type { LintRule } from '../rule.js';
import { alterCommands, locationOf, nodeOf, relationName } from '../rule.js';

/** `ALTER COLUMN … TYPE` on an existing table. */
export const columnTypeChange: LintRule = {
  id: 'column-type-change',
  why:
    'changing a column type rewrites the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock, unless the old type ' +
    'converts without a rewrite (varchar(n) to a longer varchar or to text, numeric to a wider precision); lint cannot see the old type',
  recipe:
    'add a new column of the new type, backfill it in batches, switch the code to it, then drop the old one; if this change is ' +
    'known not to rewrite, put "-- sql-helpers:lint-ignore column-type-change" on the line before the statement',
  check(statement, context) {
    if (statement.type !== 'AlterTableStmt' || context.isNew(statement.node.relation)) return [];
    return alterCommands(statement)
      .filter((command) => command.subtype === 'AT_AlterColumnType')
      .map((command) => ({
        at: locationOf(nodeOf(command.def, 'ColumnDef')) ?? statement.start,
        detail: `ALTER COLUMN ${String(command.name)} TYPE on existing table ${relationName(statement.node.relation)}`,
      }));
  },
};
