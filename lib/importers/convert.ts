import { isUtf8 } from 'node:buffer';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigrationFileError } from '../errors.js';
import { parseMigrations, type MigrationSource } from '../migrations/files.js';
import { needsNoTransaction, withNoTransactionMarker, type ConversionProblem, type SourceFile, type ToolMigration } from './importer.js';

/** One version in the mapping file: the tool's id and files, and what sql-helpers calls them. */
export interface ImportedMigration {
  /** The version as the tool's table records it. */
  id: string;
  version: number;
  from: string[];
  to: string[];
  /** What changed besides the file name (a no-transaction marker added, and why). */
  notes: string[];
}

/** What `importMigrations` wrote; the same document is saved as `imported-from-<tool>.json` in the target folder. */
export interface ImportReport {
  tool: string;
  /** True when the tool's versions could not be kept (not integers, or above 2^53) and were numbered 1, 2, 3… in its order. */
  renumbered: boolean;
  migrations: ImportedMigration[];
  /** The mapping file, the sql-helpers files next to it. */
  mappingFile: string;
}

/** The mapping file `import` writes and `adopt` reads. */
export function mappingFileName(tool: string): string {
  return `imported-from-${tool}.json`;
}

function readSource(sourceDir: string): { files: SourceFile[]; problems: ConversionProblem[] } {
  let entries;
  try {
    entries = readdirSync(sourceDir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationFileError(`cannot read the folder to import, ${JSON.stringify(sourceDir)}: ${(error as Error).message}`, {
      code: 'IMPORT_SOURCE_UNREADABLE',
      cause: error,
    });
  }
  const files: SourceFile[] = [];
  const problems: ConversionProblem[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.isDirectory()) continue;
    const content = readFileSync(join(sourceDir, entry.name));
    if (/\.(sql|conf)$/.test(entry.name) && !isUtf8(content)) problems.push({ file: entry.name, message: 'it is not valid UTF-8; save it as UTF-8' });
    files.push({ file: entry.name, text: content.toString('utf8') });
  }
  return { files: files.sort((a, b) => a.file.localeCompare(b.file)), problems };
}

/** Keeps the tool's version numbers when every one is an integer sql-helpers can hold exactly; else 1, 2, 3… in the tool's order. */
function numbering(migrations: ToolMigration[]): { renumbered: boolean; digits: string[] } {
  const kept = migrations.map((migration) => migration.digits);
  const keepable = kept.every((digits) => digits !== undefined && Number.isSafeInteger(Number(digits)));
  if (keepable && new Set(kept.map(Number)).size === kept.length) return { renumbered: false, digits: kept as string[] };
  const width = Math.max(3, String(migrations.length).length);
  return { renumbered: true, digits: migrations.map((_, index) => String(index + 1).padStart(width, '0')) };
}

function script(text: string, toolMarker: string | undefined, notes: string[], file: string): string {
  const reason = toolMarker ?? needsNoTransaction(text);
  if (reason === undefined) return text;
  notes.push(`${file}: runs outside a transaction (${toolMarker ? `was ${toolMarker}` : reason})`);
  return withNoTransactionMarker(text);
}

function refuse(problems: ConversionProblem[], tool: string): MigrationFileError {
  const lines = problems.map((problem) => `${problem.file}: ${problem.message}`);
  return new MigrationFileError(
    `cannot import ${problems.length} ${tool} file(s); nothing was written:\n- ${lines.join('\n- ')}`,
    { code: 'IMPORT_UNCONVERTIBLE', files: problems.map((problem) => problem.file) },
  );
}

/**
 * Converts another tool's migrations folder into sql-helpers files in `targetDir`, plus a mapping file of old
 * to new names. SQL is kept byte for byte; only the tool's markers move. Every refusal (a file it cannot
 * convert, a file already there) happens before anything is written.
 */
export async function importMigrations(tool: string, sourceDir: string, targetDir: string): Promise<ImportReport> {
  // Loaded here, not at the top: the CLI imports this module for every command, and the six tools only for this one.
  const { importerFor } = await import('./registry.js');
  const importer = importerFor(tool);
  const source = readSource(sourceDir);
  const { migrations, problems } = importer.convert(source.files);
  problems.push(...source.problems);
  if (problems.length > 0) throw refuse(problems.sort((a, b) => a.file.localeCompare(b.file)), tool);
  if (migrations.length === 0) {
    throw new MigrationFileError(`no ${tool} migration found in ${JSON.stringify(sourceDir)}; is it the right folder?`, { code: 'IMPORT_NOTHING' });
  }

  const { renumbered, digits } = numbering(migrations);
  const output: MigrationSource[] = [];
  const encoder = new TextEncoder();
  const imported = migrations.map((migration, index): ImportedMigration => {
    const base = `${digits[index]}_${migration.name}`;
    const notes: string[] = [];
    const files: Array<[string, string]> = [[`${base}.sql`, script(migration.up, migration.noTransaction.up, notes, `${base}.sql`)]];
    if (migration.down !== undefined) files.push([`${base}.down.sql`, script(migration.down, migration.noTransaction.down, notes, `${base}.down.sql`)]);
    for (const [file, text] of files) output.push({ file, content: encoder.encode(text) });
    return { id: migration.id, version: Number(digits[index]), from: migration.sources, to: files.map(([file]) => file), notes };
  });

  await mkdir(targetDir, { recursive: true });
  const mappingFile = mappingFileName(tool);
  const existing = readdirSync(targetDir);
  const taken = [...output.map((file) => file.file), mappingFile].filter((file) => existing.includes(file));
  if (taken.length > 0) {
    throw new MigrationFileError(`${taken.join(', ')} already exist(s) in ${JSON.stringify(targetDir)}; nothing was written: import into an empty folder`, {
      code: 'IMPORT_TARGET_EXISTS',
      files: taken,
    });
  }
  // The folder as it will be must be a valid sql-helpers folder (on one database at least: the history may be for either).
  const folder = [...existing.filter((file) => file.endsWith('.sql')).map((file) => ({ file, content: readFileSync(join(targetDir, file)) })), ...output];
  try {
    parseMigrations(folder, 'postgres');
  } catch (error) {
    try {
      parseMigrations(folder, 'sqlite');
    } catch {
      throw error;
    }
  }

  const report: ImportReport = { tool, renumbered, migrations: imported, mappingFile: join(targetDir, mappingFile) };
  for (const file of output) await writeFile(join(targetDir, file.file), file.content, { flag: 'wx' });
  await writeFile(report.mappingFile, `${JSON.stringify({ tool, renumbered, migrations: imported }, null, 2)}\n`, { flag: 'wx' });
  return report;
}
