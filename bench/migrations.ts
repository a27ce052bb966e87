// The generated migrations: N files of 3 statements (a table, an index, a small insert), written once per
// tool in its naming convention, with byte-identical contents; and the psql script that applies them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Statements per generated migration (psql sends each as its own round trip, plus BEGIN and COMMIT). */
export const STATEMENTS_PER_MIGRATION = 3;

export function migrationSql(i: number): string {
  return (
    `CREATE TABLE bench_t${i} (id integer PRIMARY KEY, name text NOT NULL, created_at text);\n` +
    `CREATE INDEX bench_t${i}_name ON bench_t${i} (name);\n` +
    `INSERT INTO bench_t${i} (id, name) VALUES (1, 'row ${i}');\n`
  );
}

const pad = (i: number) => String(i).padStart(4, '0');

/** sql-helpers: `0001_table_0001.sql`. node-pg-migrate's SQL loader takes the same names (numeric prefix). */
export async function writeSqlHelpersFiles(dir: string, count: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = 1; i <= count; i++) {
    const file = join(dir, `${pad(i)}_table_${pad(i)}.sql`);
    await writeFile(file, migrationSql(i));
    files.push(file);
  }
  return files;
}

/** Postgrator: `0001.do.table_0001.sql`. */
export async function writePostgratorFiles(dir: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await writeFile(join(dir, `${pad(i)}.do.table_${pad(i)}.sql`), migrationSql(i));
}

/** One psql script: `BEGIN; \i file; COMMIT;` per file, stopping at the first error. */
export async function writePsqlScript(path: string, files: string[]): Promise<void> {
  const quote = (file: string) => `'${file.replaceAll("'", "''")}'`;
  const lines = ['\\set ON_ERROR_STOP on', ...files.map((file) => `BEGIN;\n\\i ${quote(file)}\nCOMMIT;`)];
  await writeFile(path, `${lines.join('\n')}\n`);
}
