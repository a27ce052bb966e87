import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { versionDigitsOf } from '../migrations/files.js';
import { UsageError, type Command } from './command.js';

function slug(name: string): string {
  const cleaned = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!cleaned) throw new UsageError(`"${name}" leaves no letters or digits for a file name`);
  return cleaned;
}

/** Writes the next numbered file (and its .down.sql) into `dir`; returns their paths. */
async function newMigration(dir: string, name: string, withDown: boolean): Promise<string[]> {
  // The name is also written into the file as a comment: a newline would turn the rest of it into SQL.
  if (/[\p{Cc}\u2028\u2029]/u.test(name)) {
    throw new UsageError(`the name ${JSON.stringify(name)} holds a control character (newline, tab, …); use letters, digits and spaces`);
  }
  await mkdir(dir, { recursive: true });
  // Only real migration files count: 20240101_notes.md or a 2_x.sql.bak does not set the next number.
  const existing = (await readdir(dir)).map(versionDigitsOf).filter((digits): digits is string => digits !== undefined);
  const next = existing.reduce((max, digits) => Math.max(max, Number(digits)), 0) + 1;
  if (!Number.isSafeInteger(next)) {
    throw new UsageError(`the next version would be beyond ${Number.MAX_SAFE_INTEGER}, the largest the migrator accepts; renumber the folder`);
  }
  const width = existing.length > 0 ? Math.max(...existing.map((digits) => digits.length)) : 3;
  const base = `${String(next).padStart(width, '0')}_${slug(name)}`;
  const files = [`${base}.sql`, ...(withDown ? [`${base}.down.sql`] : [])];
  for (const file of files) {
    const body = file.endsWith('.down.sql') ? `-- Reverts ${base}.sql.\n` : `-- ${name}\n`;
    await writeFile(join(dir, file), body, { flag: 'wx' });
  }
  return files.map((file) => join(dir, file));
}

export const newCommand: Command = {
  name: 'new',
  args: ['<name>'],
  summary: 'write the next numbered migration file',
  database: 'none',
  options: { down: { type: 'boolean', help: '--down              also write the .down.sql file' } },
  async run(context) {
    const files = await newMigration(context.dir, context.args[0]!, context.flags.down === true);
    return { fields: { files }, text: files.map((file) => `created ${file}`).join('\n') };
  },
};
