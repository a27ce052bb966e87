import { DRY_RUN, type Command } from './command.js';
import { dryRun } from './dry-run.js';
import { runsSummary } from './output.js';

export const sync: Command = {
  name: 'sync',
  args: [],
  summary: 'apply what is pending; create the schema when nothing is recorded (the default command)',
  database: 'write',
  options: DRY_RUN,
  async run(context) {
    if (context.flags['dry-run']) return dryRun(context, 'sync');
    const db = context.open();
    const { result, applied } = await db.migrator.sync((query) => db.query(query));
    return { fields: { result, applied }, text: `${result.toLowerCase().replaceAll('_', ' ')}: ${runsSummary(applied, 'applied')}` };
  },
};

export const upgrade: Command = {
  name: 'upgrade',
  args: ['[target]'],
  summary: 'apply pending migrations up to target (a version, default head)',
  database: 'write',
  options: DRY_RUN,
  async run(context) {
    const target = context.args[0] ?? 'head';
    if (context.flags['dry-run']) return dryRun(context, 'upgrade', target);
    const applied = await context.open().upgrade(target);
    return { fields: { applied }, text: runsSummary(applied, 'applied') };
  },
};

export const create: Command = {
  name: 'create',
  args: [],
  summary: 'apply every migration to an empty database that exists (see --create-database to create the database)',
  database: 'write',
  async run(context) {
    const applied = await context.open().create();
    return { fields: { applied }, text: runsSummary(applied, 'applied') };
  },
};
