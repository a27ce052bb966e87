import { waitForDatabase } from '../wait.js';
import type { Command } from './command.js';

export const wait: Command = {
  name: 'wait',
  args: [],
  summary: 'wait until the database accepts connections (a SQLite file: until it exists), at most --wait-timeout',
  database: 'none',
  async run(context) {
    const flags = context.flags;
    context.progress(`waiting for ${context.target().redacted}`);
    const waited = await waitForDatabase(context.uri, {
      timeoutMs: flags['wait-timeout'] === undefined ? undefined : Number(flags['wait-timeout']),
      connectTimeoutMs: context.connectTimeoutMs,
    });
    return { fields: { ...waited }, text: `ready: the database accepts connections (after ${waited.waitedMs} ms, ${waited.attempts} attempt${waited.attempts === 1 ? '' : 's'})` };
  },
};
