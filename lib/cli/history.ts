import type { Command } from './command.js';
import { listingDocument, listingTable } from './output.js';

export const current: Command = {
  name: 'current',
  args: [],
  summary: 'print the highest applied version',
  database: 'read',
  async run(context) {
    const current = await context.open().getCurrentRevision();
    return { fields: { current }, text: current === null ? 'current: none' : `current: ${current}` };
  },
};

export const history: Command = {
  name: 'history',
  args: [],
  summary: 'list applied migrations with their time and duration',
  database: 'read',
  async run(context) {
    const applied = (await context.open().listMigrations()).filter((entry) => entry.state !== 'pending');
    applied.sort((a, b) => (a.appliedAt?.getTime() ?? 0) - (b.appliedAt?.getTime() ?? 0) || a.version - b.version);
    return { fields: { history: applied.map(listingDocument) }, text: applied.length ? listingTable(applied) : 'no migration has been applied' };
  },
};
