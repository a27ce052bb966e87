import type { LintRule, RuleHit } from '../rule.js';
import { alterCommands, nodeOf, relationName } from '../rule.js';

const listName = (object: unknown) => ((nodeOf(object, 'List')?.items as unknown[]) ?? []).map((item) => String(nodeOf(item, 'String')?.sval ?? '')).join('.');

/** `DROP TABLE`, `DROP COLUMN`, and renaming a table or column: running code may still use the old name. */
export const dropOrRename: LintRule = {
  id: 'drop-or-rename',
  why:
    'during a rolling deploy the previous release keeps running against the new schema: a dropped or renamed table or column ' +
    'makes its queries fail until every instance is replaced (and a rollback of the code cannot bring it back)',
  recipe:
    'expand and contract: first ship code that no longer reads or writes it; drop it in a later release. To rename, add the new ' +
    'column (or a view under the new name), write both, backfill, move reads over, then drop the old one',
  check(statement, context) {
    const hits: RuleHit[] = [];
    const node = statement.node;
    if (statement.type === 'DropStmt' && node.removeType === 'OBJECT_TABLE') {
      for (const object of (node.objects as unknown[]) ?? []) {
        const name = listName(object);
        if (!context.isNew({ relname: name.split('.').at(-1), schemaname: name.includes('.') ? name.split('.')[0] : undefined })) {
          hits.push({ at: statement.start, detail: `DROP TABLE ${name}` });
        }
      }
    }
    if (statement.type === 'RenameStmt' && !context.isNew(node.relation)) {
      if (node.renameType === 'OBJECT_TABLE') hits.push({ at: statement.start, detail: `table ${relationName(node.relation)} renamed to ${String(node.newname)}` });
      if (node.renameType === 'OBJECT_COLUMN') {
        hits.push({ at: statement.start, detail: `column ${relationName(node.relation)}.${String(node.subname)} renamed to ${String(node.newname)}` });
      }
    }
    if (statement.type === 'AlterTableStmt' && !context.isNew(node.relation)) {
      for (const command of alterCommands(statement)) {
        if (command.subtype === 'AT_DropColumn') hits.push({ at: statement.start, detail: `DROP COLUMN ${relationName(node.relation)}.${String(command.name)}` });
      }
    }
    return hits;
  },
};
