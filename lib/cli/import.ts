import type { Command } from './command.js';

// Loaded by these commands alone, so that every other command starts without the importers.

export const importCommand: Command = {
  name: 'import',
  args: ['<tool>', '<source-dir>'],
  summary:
    "convert another tool's migrations folder into --dir, with a mapping file\n(golang-migrate, goose, dbmate, flyway, node-pg-migrate, postgrator)",
  database: 'none',
  async run(context) {
    const [tool, source] = context.args as [string, string];
    const { importMigrations } = await import('../importers/convert.js');
    const report = await importMigrations(tool, source, context.dir);
    const lines = report.migrations.flatMap((entry) => [`${entry.from.join(' + ')} -> ${entry.to.join(' + ')}`, ...entry.notes.map((note) => `  ${note}`)]);
    lines.push(
      `imported ${report.migrations.length} ${tool} migration(s) into ${context.dir}${report.renumbered ? ', renumbered 1, 2, 3… (its versions are not integers below 2^53)' : ''}; mapping in ${report.mappingFile}`,
    );
    return { fields: { tool: report.tool, renumbered: report.renumbered, imported: report.migrations, mappingFile: report.mappingFile }, text: lines.join('\n') };
  },
};

export const adopt: Command = {
  name: 'adopt',
  args: ['<tool>'],
  summary: 'stamp the versions that tool recorded in its version table, after import',
  database: 'write',
  options: { 'from-table': { type: 'string', help: "--from-table NAME   the tool's version table, when not its default" } },
  async run(context) {
    const tool = context.args[0]!;
    const { adopt: adoptVersions } = await import('../importers/adopt.js');
    const report = await adoptVersions(context.open(), tool, { table: context.flags['from-table'] as string | undefined });
    const text =
      report.stamped.length > 0
        ? `adopted: stamped ${report.stamped.length} version(s) that ${tool} had applied`
        : `nothing to stamp: ${report.applied.length === 0 ? `${tool} applied nothing` : 'already adopted'}`;
    return { fields: { tool: report.tool, table: report.table, toolVersions: report.applied, stamped: report.stamped }, text };
  },
};
