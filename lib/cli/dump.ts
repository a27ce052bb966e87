import { writeFile } from 'node:fs/promises';
import type { Command } from './command.js';

export const dump: Command = {
  name: 'dump',
  args: ['[file]'],
  summary: 'write the managed schema as SQL to file (else to stdout): pg_dump --schema-only on PostgreSQL (PG_DUMP=path\nto choose one), sqlite_schema on SQLite; the same schema gives the same text',
  database: 'read',
  async run(context) {
    const file = context.args[0];
    // Printed to stdout, the schema is the whole of stdout: the database line goes to stderr.
    const schema = await context.open('read', { header: file === undefined ? 'stderr' : 'stdout' }).dumpSchema();
    if (file === undefined) return { fields: { file: null, schema }, text: schema.trimEnd() };
    await writeFile(file, schema);
    return { fields: { file, bytes: Buffer.byteLength(schema) }, text: `wrote the schema to ${file} (${Buffer.byteLength(schema)} bytes)` };
  },
};
