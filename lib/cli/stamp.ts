import type { Command } from './command.js';

export const stamp: Command = {
  name: 'stamp',
  args: ['<target>'],
  summary: 'record files up to target as applied without running them',
  database: 'write',
  async run(context) {
    const stamped = await context.open().stamp(context.args[0]!);
    return { fields: { stamped }, text: stamped.length ? `stamped ${stamped.length} version(s): ${stamped.join(', ')}` : 'nothing to stamp' };
  },
};
