import type { Command } from './command.js';

export const repair: Command = {
  name: 'repair',
  args: ['<version>'],
  summary: "accept an applied file's current content after a harmless edit: record its new checksum (one version)",
  database: 'write',
  async run(context) {
    const repaired = await context.open().repair(context.args[0]!);
    const text = repaired.changed
      ? `repaired version ${repaired.version}: ${repaired.file} is accepted as applied with its current content`
      : `nothing to repair: ${repaired.file} matches what was recorded`;
    return { fields: { repaired }, text };
  },
};
