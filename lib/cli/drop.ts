import { ConnectionError } from '../errors.js';
import { UsageError, type Command } from './command.js';

export const drop: Command = {
  name: 'drop',
  args: [],
  summary: 'drop every object of the managed schema and the version table (asks for --yes)',
  database: 'write',
  options: { yes: { type: 'boolean', short: 'y', help: '-y, --yes           really drop' } },
  async run(context) {
    if (context.flags.yes !== true) {
      throw new UsageError('drop deletes every table, view, sequence and type of the schema; run it again with --yes');
    }
    try {
      // Opened without creating: dropping a SQLite file that does not exist leaves no empty file behind.
      await context.open('read').drop();
    } catch (error) {
      if (!(error instanceof ConnectionError && error.code === 'DATABASE_NOT_FOUND')) throw error;
      return { fields: { dropped: false }, text: 'nothing to drop: the SQLite file does not exist' };
    }
    return { fields: { dropped: true }, text: 'dropped every object of the schema' };
  },
};
