import type { AstNode } from '../parser.js';
import type { LintRule, RuleHit } from '../rule.js';
import { alterCommands, locationOf, nodeOf, relationName } from '../rule.js';

const CHECKED = new Map([
  ['CONSTR_FOREIGN', 'FOREIGN KEY'],
  ['CONSTR_CHECK', 'CHECK'],
]);

/** Adding a foreign key or CHECK to an existing table with validation, or validating it in the same transaction. */
export const constraintWithoutNotValid: LintRule = {
  id: 'constraint-without-not-valid',
  why:
    'adding a FOREIGN KEY or CHECK constraint validates every existing row while holding a lock that blocks writes ' +
    '(and, for ALTER TABLE, reads): the table stalls for the whole scan',
  recipe:
    'add it with NOT VALID (new rows are checked at once, the lock is brief), then VALIDATE CONSTRAINT it in a later ' +
    'migration: validation takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through',
  check(statement, context) {
    if (statement.type !== 'AlterTableStmt' || context.isNew(statement.node.relation)) return [];
    const table = relationName(statement.node.relation);
    const hits: RuleHit[] = [];
    for (const command of alterCommands(statement)) {
      const constraints: AstNode[] = [];
      if (command.subtype === 'AT_AddConstraint') constraints.push(nodeOf(command.def, 'Constraint') ?? {});
      if (command.subtype === 'AT_AddColumn') {
        const column = nodeOf(command.def, 'ColumnDef');
        for (const constraint of (column?.constraints as unknown[]) ?? []) constraints.push(nodeOf(constraint, 'Constraint') ?? {});
      }
      for (const constraint of constraints) {
        const kind = CHECKED.get(String(constraint.contype));
        if (kind === undefined || constraint.skip_validation === true) continue;
        hits.push({ at: locationOf(constraint) ?? statement.start, detail: `${kind} constraint added to existing table ${table} without NOT VALID` });
      }
      // NOT VALID then VALIDATE in one transaction keeps the first, strong lock through the scan: no gain.
      if (command.subtype === 'AT_ValidateConstraint' && context.transactional && addedNotValidEarlier(context, String(command.name))) {
        hits.push({ at: statement.start, detail: `VALIDATE CONSTRAINT ${String(command.name)} in the same transaction that added it NOT VALID` });
      }
    }
    return hits;
  },
};

function addedNotValidEarlier(context: Parameters<LintRule['check']>[1], name: string): boolean {
  return context.statements.slice(0, context.index).some((earlier) =>
    alterCommands(earlier).some((command) => command.subtype === 'AT_AddConstraint' && nodeOf(command.def, 'Constraint')?.conname === name),
  );
}
