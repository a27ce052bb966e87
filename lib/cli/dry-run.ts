import { ConnectionError } from '../errors.js';
import { DatabaseManager } from '../manager.js';
import type { PlanAction } from '../migrations/migrator.js';
import type { CommandContext, CommandResult } from './command.js';
import { planText } from './output.js';

/**
 * `--dry-run`: the plan of `action`, read without the lock and without creating anything. A SQLite file that
 * does not exist yet is planned from nothing (what the first sync would do), without creating it.
 */
export async function dryRun(context: CommandContext, action: PlanAction, target?: string): Promise<CommandResult> {
  let steps;
  let note = '';
  try {
    steps = await context.open('read').plan(action, target);
  } catch (error) {
    if (!(error instanceof ConnectionError && error.code === 'DATABASE_NOT_FOUND')) throw error;
    const empty = new DatabaseManager('sqlite::memory:', context.dir);
    try {
      steps = await empty.plan(action, target);
    } finally {
      await empty.close();
    }
    note = '\n(the SQLite file does not exist yet: planned from an empty database)';
  }
  const verb = action === 'sync' || action === 'upgrade' ? 'applied' : 'reverted';
  return { fields: { dryRun: true, plan: steps }, text: planText(steps, verb) + note };
}
