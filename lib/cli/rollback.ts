import { DRY_RUN, type Command } from './command.js';
import { dryRun } from './dry-run.js';
import { runsSummary } from './output.js';

export const downgrade: Command = {
  name: 'downgrade',
  args: ['<target>'],
  summary: 'revert applied migrations above target (0 = all) with their .down.sql files',
  database: 'write',
  options: DRY_RUN,
  async run(context) {
    const target = context.args[0]!;
    if (context.flags['dry-run']) return dryRun(context, 'downgrade', target);
    const reverted = await context.open().downgrade(target);
    return { fields: { reverted }, text: runsSummary(reverted, 'reverted') };
  },
};

export const rollback: Command = {
  name: 'rollback',
  args: [],
  summary: 'revert the last applied migration (the highest version) with its .down.sql file',
  database: 'write',
  options: DRY_RUN,
  async run(context) {
    if (context.flags['dry-run']) return dryRun(context, 'rollback');
    const reverted = await context.open().rollback();
    return { fields: { reverted }, text: runsSummary(reverted, 'reverted') };
  },
};

export const redo: Command = {
  name: 'redo',
  args: [],
  summary: 'revert the last applied migration and apply it again (while writing it)',
  database: 'write',
  async run(context) {
    const { reverted, applied } = await context.open().redo();
    return { fields: { reverted, applied }, text: applied.length === 0 ? 'nothing to redo' : `redone: ${runsSummary(reverted, 'reverted')}, ${runsSummary(applied, 'applied')}` };
  },
};
