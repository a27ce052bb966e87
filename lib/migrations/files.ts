import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { sep } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import type { Dialect, Script } from '../driver/driver.js';
import { MigrationFileError } from '../errors.js';
import { readMarkers, type FileMarkers } from './markers.js';
import { TRANSACTION_CONTROL, isNoTransaction, locate, scanScript } from './statements.js';

/** One side (up or down) of a migration, as read from its file. */
export interface MigrationScript extends Script, FileMarkers {
  /** File name relative to the migrations folder. */
  file: string;
  /** SHA-256 of the text with a leading BOM removed and CRLF turned into LF. */
  checksum: string;
  /** False when the file carries `-- sql-helpers:no-transaction`. */
  transactional: boolean;
  /** True when there is nothing to run: the file holds only whitespace, comments and a BOM, or it does not exist for this dialect. */
  noop: boolean;
}

/** A numbered migration with the up script this dialect runs and its down script, if any. */
export interface Migration {
  version: number;
  name: string;
  up: MigrationScript;
  down: MigrationScript | undefined;
}

/** A file name and its raw bytes: the input of `parseMigrations`. */
export interface MigrationSource {
  file: string;
  /** The file's bytes, or its text where the reader decoded it and found it valid UTF-8. */
  content: Uint8Array | string;
}

const FILE_NAME = /^(\d+)_([^.]+)(?:\.(postgres|sqlite))?(\.down)?\.sql$/;

/** The version digits of a migration file name (`003` of `003_users.sql`), or `undefined` for any other file. */
export function versionDigitsOf(file: string): string | undefined {
  return file.startsWith('.') ? undefined : FILE_NAME.exec(file)?.[1];
}

/** Text with a leading BOM removed and CRLF line ends turned into LF: what the checksum covers. */
export function normalizeText(text: string): string {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return withoutBom.includes('\r\n') ? withoutBom.replaceAll('\r\n', '\n') : withoutBom;
}

/** The checksum of a migration's text, the same for CRLF and LF copies and with or without a BOM. */
export function checksumOf(text: string): string {
  return hash('sha256', normalizeText(text), 'hex');
}

/** A migration file: what its name says, and its content. */
interface NamedSource {
  file: string;
  version: number;
  name: string;
  dialect: Dialect | undefined;
  down: boolean;
  content: Uint8Array | string;
}

function parseFileName(file: string, content: Uint8Array | string): NamedSource {
  const match = FILE_NAME.exec(file);
  if (!match) {
    const hint = !file.endsWith('.sql')
      ? ` (only lower-case .sql files are migrations: rename it to ${file.slice(0, -4)}.sql)`
      : /^\d+_[^.]+\.down\.(postgres|sqlite)\.sql$/.test(file)
      ? ` (write the dialect before .down: ${file.replace(/\.down\.(postgres|sqlite)\.sql$/, '.$1.down.sql')})`
      : /^\d+_\./.test(file)
        ? ' (the name after the version is empty: write one, e.g. 001_create_users.sql)'
        : /^\d+_/.test(file)
          ? ' (the name after the version may not contain dots)'
          : /^\d+\./.test(file)
            ? ' (write an underscore and a name after the version, e.g. 001_create_users.sql)'
            : '';
    throw new MigrationFileError(
      `migration file ${JSON.stringify(file)} does not follow <digits>_<name>[.postgres|.sqlite][.down].sql${hint}`,
      { code: 'BAD_FILE_NAME', files: [file] },
    );
  }
  const [, digits, name, dialect, down] = match as unknown as [string, string, string, Dialect | undefined, string | undefined];
  const version = Number(digits);
  if (!Number.isSafeInteger(version)) {
    throw new MigrationFileError(
      `migration file ${JSON.stringify(file)} has version ${digits}, beyond the largest exact integer (${Number.MAX_SAFE_INTEGER}); use a smaller number`,
      { code: 'VERSION_TOO_LARGE', files: [file] },
    );
  }
  if (version === 0) {
    // 0 means "nothing applied" (downgrade 0 reverts everything): a migration numbered 0 could never be reverted.
    throw new MigrationFileError(`migration file ${JSON.stringify(file)} has version 0, which means "nothing applied"; number migrations from 1`, {
      code: 'VERSION_ZERO',
      files: [file],
    });
  }
  return { file, version, name, dialect, down: down !== undefined, content };
}

// PostgreSQL cannot store a NUL in text and refuses it in a query; SQLite stops reading a statement at one and
// silently skips the rest. Refused for both, before anything runs.
function refuseWhatNoDatabaseTakes(file: string, text: string): void {
  const nul = text.indexOf('\0');
  if (nul < 0) return;
  const { line, column } = locate(text, nul);
  throw new MigrationFileError(
    `${file}:${line}:${column}: the file holds a NUL byte, which neither database can run; remove it (is this a binary or UTF-16 file?)`,
    { code: 'NUL_BYTE', files: [file], line },
  );
}

/** The text of `content`; bytes that are not valid UTF-8 are a `NOT_UTF8` error naming the line. */
function decode(file: string, content: Uint8Array | string): string {
  if (typeof content === 'string') return content;
  // isUtf8 + toString is several times faster than a fatal TextDecoder, and start-up reads every file.
  if (!isUtf8(content)) {
    let cause: unknown;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(content);
    } catch (error) {
      cause = error;
    }
    const replaced = new TextDecoder('utf-8').decode(content);
    const { line } = locate(replaced, replaced.indexOf('\uFFFD'));
    throw new MigrationFileError(`migration file ${JSON.stringify(file)} is not valid UTF-8 (line ${line}); save it as UTF-8`, {
      code: 'NOT_UTF8',
      files: [file],
      line,
      cause,
    });
  }
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
}

function toScript(file: string, content: Uint8Array | string, dialect: Dialect): MigrationScript {
  const text = normalizeText(decode(file, content));
  refuseWhatNoDatabaseTakes(file, text);
  // A file with no statement (a placeholder, a down file with nothing to undo) is a valid no-op migration.
  const { statements, commentLines } = scanScript(text, dialect);
  const transactional = !isNoTransaction(commentLines);
  const markers = readMarkers(file, text, commentLines);
  const control = transactional ? statements.find((statement) => TRANSACTION_CONTROL.has(statement.keyword)) : undefined;
  if (control) {
    throw new MigrationFileError(
      `${file}:${control.line}:${control.column}: ${control.keyword} would end the transaction that each migration runs in; ` +
        'remove it, or add the line "-- sql-helpers:no-transaction" to manage transactions yourself',
      { code: 'TRANSACTION_CONTROL', files: [file], line: control.line },
    );
  }
  return {
    file,
    text,
    statements,
    checksum: checksumOf(text),
    transactional,
    noop: statements.length === 0,
    lockTimeoutMs: markers.lockTimeoutMs,
    statementTimeoutMs: markers.statementTimeoutMs,
  };
}

/** The script of a version written for the other database only: nothing runs here, but the version is recorded. */
function otherDialectOnly(file: string): MigrationScript {
  return { file, text: '', statements: [], checksum: checksumOf(''), transactional: true, noop: true, lockTimeoutMs: undefined, statementTimeoutMs: undefined };
}

/**
 * Validates migration files and picks, per version, the script this dialect runs. Pure: every refusal
 * (bad names, duplicate versions, orphan down files, files that are not UTF-8) happens before anything runs.
 */
export function parseMigrations(sources: MigrationSource[], dialect: Dialect): Migration[] {
  const byVersion = new Map<number, NamedSource[]>();
  for (const source of sources) {
    const parsed = parseFileName(source.file, source.content);
    const group = byVersion.get(parsed.version);
    if (group === undefined) byVersion.set(parsed.version, [parsed]);
    else group.push(parsed);
  }
  const migrations: Migration[] = [];
  for (const [version, group] of byVersion) {
    // Start-up parses every file: the one-file version, by far the most common, takes the short way.
    if (group.length > 1) refuseCollisions(version, group);
    let up: NamedSource | undefined;
    let down: NamedSource | undefined;
    let firstUp: NamedSource | undefined;
    for (const entry of group) {
      if (!entry.down) firstUp ??= entry;
      if (entry.dialect !== undefined && entry.dialect !== dialect) continue;
      if (entry.down) {
        if (down === undefined || entry.dialect !== undefined) down = entry;
      } else if (up === undefined || entry.dialect !== undefined) {
        up = entry;
      }
    }
    if (firstUp === undefined) {
      const files = group.map((entry) => entry.file).sort();
      throw new MigrationFileError(`down migration ${files.join(', ')} has no up migration for version ${version}; add it or delete the down file`, {
        code: 'ORPHAN_DOWN',
        files,
      });
    }
    for (const entry of group) {
      // The other dialect's variants are checked too, so a broken .postgres.sql fails the SQLite test run.
      if (entry.dialect !== undefined && entry.dialect !== dialect) toScript(entry.file, entry.content, entry.dialect);
    }
    // No base and no variant for this database: the version was written for the other one alone, and is a no-op here.
    const absent = up === undefined ? otherDialectOnly(firstUp.file) : undefined;
    migrations.push({
      version,
      name: firstUp.name,
      up: absent ?? toScript(up!.file, up!.content, dialect),
      down: absent ?? (down && toScript(down.file, down.content, dialect)),
    });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Files of one version must share a name and differ in dialect or direction: anything else is two migrations. */
function refuseCollisions(version: number, group: NamedSource[]): void {
  const names = new Set(group.map((entry) => entry.name));
  const slots = new Set(group.map((entry) => `${entry.dialect ?? 'base'}:${entry.down}`));
  if (names.size === 1 && slots.size === group.length) return;
  const files = group.map((entry) => entry.file).sort();
  throw new MigrationFileError(`version ${version} is used by more than one migration: ${files.join(', ')}; give each its own number`, {
    code: 'DUPLICATE_VERSION',
    files,
  });
}

// Files read between two turns of the event loop: a connection being opened meanwhile (the migrator starts one
// before it reads the folder) gets its replies handled, so its round trips overlap the reading of many files.
const FILES_PER_TURN = 8;

/** Reads `dir` (non-recursive; dotfiles and non-`.sql` files are ignored) and parses it with `parseMigrations`. */
export async function readMigrations(dir: string, dialect: Dialect): Promise<Migration[]> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MigrationFileError(
      code === 'ENOENT'
        ? `migrations folder ${JSON.stringify(dir)} does not exist; create it or pass the right folder (--dir)`
        : `cannot read migrations folder ${JSON.stringify(dir)}: ${(error as Error).message}`,
      { code: code === 'ENOENT' ? 'MIGRATIONS_DIR_MISSING' : 'MIGRATIONS_DIR_UNREADABLE', cause: error },
    );
  }
  // A directory named like a migration is not skipped: it is refused below. ".SQL" is taken in, to be refused by
  // name rather than skipped without a word.
  const wanted = entries.filter((entry) => !entry.name.startsWith('.') && entry.name.toLowerCase().endsWith('.sql'));
  const folder = dir.endsWith(sep) ? dir : dir + sep;
  // Synchronous reads: hundreds of small files are read faster in a loop than through as many FileHandles.
  const sources: MigrationSource[] = [];
  for (const entry of wanted) {
    if (sources.length > 0 && sources.length % FILES_PER_TURN === 0) await setImmediate();
    sources.push(readSource(folder, entry));
  }
  return parseMigrations(sources, dialect);
}

function readSource(folder: string, entry: Dirent): MigrationSource {
  const file = entry.name;
  try {
    // A synchronous read of a FIFO would block the process for good, where no timer could end it: anything the
    // folder listing does not show as a regular file (a symlink, a FIFO …) is checked, following symlinks, first.
    if (!entry.isFile() && !statSync(folder + file).isFile()) {
      throw new MigrationFileError(
        `migration file ${JSON.stringify(file)} is not a regular file (a folder, FIFO, socket or device); migrations must be regular files`,
        { code: 'UNREADABLE_FILE', files: [file] },
      );
    }
    // Read as text in one native call; only a file where decoding replaced something is read again as bytes, so
    // that invalid UTF-8 is refused rather than replaced (a file holding U+FFFD itself passes that check).
    const text = readFileSync(folder + file, 'utf8');
    return { file, content: text.includes('\uFFFD') ? readFileSync(folder + file) : text };
  } catch (error) {
    if (error instanceof MigrationFileError) throw error;
    throw new MigrationFileError(
      `cannot read migration file ${JSON.stringify(file)}: ${(error as Error).message}; it must be a readable file (a broken symlink or a folder named *.sql cannot be read)`,
      { code: 'UNREADABLE_FILE', files: [file], cause: error },
    );
  }
}
