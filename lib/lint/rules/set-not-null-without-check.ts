import type { LintRule } from '../rule.js';
import { alterCommands, relationName } from '../rule.js';

/** `ALTER COLUMN … SET NOT NULL` on an existing table without a CHECK validated before it. */
export const setNotNullWithoutCheck: LintRule = {
  id: 'set-not-null-without-check',
  why: 'SET NOT NULL scans the whole table for NULLs under an ACCESS EXCLUSIVE lock: every read and write of the table waits for the scan',
  recipe:
    'first ADD CONSTRAINT t_c_not_null CHECK (c IS NOT NULL) NOT VALID; in a later migration VALIDATE CONSTRAINT t_c_not_null, ' +
    'then SET NOT NULL (PostgreSQL 12+ sees the validated CHECK and skips the scan), then DROP CONSTRAINT t_c_not_null',
  check(statement, context) {
    if (statement.type !== 'AlterTableStmt' || context.isNew(statement.node.relation)) return [];
    const table = relationName(statement.node.relation);
    // A VALIDATE CONSTRAINT on the same table earlier in the file is the recipe's second step (lint cannot see
    // the CHECK's expression when an earlier migration added it).
    const validated = context.statements
      .slice(0, context.index)
      .some((earlier) => relationName(earlier.node.relation) === table && alterCommands(earlier).some((command) => command.subtype === 'AT_ValidateConstraint'));
    if (validated) return [];
    return alterCommands(statement)
      .filter((command) => command.subtype === 'AT_SetNotNull')
      .map((command) => ({ at: statement.start, detail: `SET NOT NULL on ${table}.${String(command.name)} without a validated CHECK (${String(command.name)} IS NOT NULL) first` }));
  },
};
