#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SqlHelpersError } from './errors.js';
import { adopt } from './importers/adopt.js';
import { importMigrations } from './importers/convert.js';
import { DatabaseManager, DatabaseStatus, statusOf } from './manager.js';
import { versionDigitsOf } from './migrations/files.js';
import type { MigrationRun } from './migrations/migrator.js';
import type { MigrationListing } from './migrations/plan.js';
import { parseDuration } from './migrations/duration.js';
import { lintFiles, migrationFilesOf, type LintReport } from './lint/lint.js';
import { redactText } from './uri.js';

/** The database used when neither --database nor DATABASE_URL is given. */
export const DEFAULT_DATABASE = 'sqlite:./app.db';
/** The migrations folder used when --dir is not given. */
export const DEFAULT_DIR = './sql';

/** Exit codes: 0 done, 1 failed, 2 bad usage, 3 `status --check` found the database not up to date. */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2, NOT_UP_TO_DATE: 3 } as const;

const HELP = `Usage: sql-helpers-migrate [command] [options]

Commands:
  sync                 apply what is pending; create the schema when nothing is recorded (default)
  status               list every migration with its state; --check exits 3 unless up to date
  current              print the highest applied version
  upgrade [target]     apply pending migrations up to target (a version, default head)
  downgrade <target>   revert applied migrations above target (0 = all) with their .down.sql files
  stamp <target>       record files up to target as applied without running them
  create               apply every migration to an empty database
  drop                 drop every table, view, sequence and type (asks for --yes)
  new <name>           write the next numbered migration file
  verify               report drift between the files and the database (exit 1 if any)
  history              list applied migrations with their time and duration
  import <tool> <src>  convert another tool's migrations folder into --dir, with a mapping file
                       (golang-migrate, goose, dbmate, flyway, node-pg-migrate, postgrator)
  adopt <tool>         stamp the versions that tool recorded in its version table, after import
  lint [files…]        check migrations (the given files, else the pending ones) for statements that lock or
                       rewrite busy tables, with the PostgreSQL parser (needs libpg-query); exit 1 on findings

Options:
  -d, --database URL   database URI (else $DATABASE_URL, else ${DEFAULT_DATABASE})
  --dir DIR            migrations folder (default ${DEFAULT_DIR})
  --json               print one JSON document instead of text
  --check              with status: exit 3 when the database is not up to date
  -y, --yes            with drop: really drop
  --down               with new: also write the .down.sql file
  --schema NAME        PostgreSQL schema to manage (default: the connection's current schema)
  --direct-url URL     PostgreSQL: the same database past any pooler, for the migrations' connections
  --table NAME         version table (default sql_helpers_migrations)
  --lock-timeout MS    how long to wait for another migrating process (default 300000)
  --ddl-lock-timeout T PostgreSQL: how long a migration may wait for a table lock per attempt (5s; 0 = no limit)
  --ddl-lock-attempts N PostgreSQL: attempts of a migration that timed out on a lock (default 5)
  --allow-out-of-order apply pending files older than the newest applied one
  --from-table NAME    with adopt: the tool's version table, when not its default
  --stack              show the stack trace of an error
  -h, --help           show this help
  -V, --version        print the version

Exit codes: 0 done, 1 failed (lint: found something), 2 bad usage, 3 not up to date (status --check).`;

const OPTIONS = {
  database: { type: 'string', short: 'd' },
  dir: { type: 'string' },
  json: { type: 'boolean' },
  check: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  down: { type: 'boolean' },
  schema: { type: 'string' },
  'direct-url': { type: 'string' },
  table: { type: 'string' },
  'lock-timeout': { type: 'string' },
  'ddl-lock-timeout': { type: 'string' },
  'ddl-lock-attempts': { type: 'string' },
  'allow-out-of-order': { type: 'boolean' },
  'from-table': { type: 'string' },
  stack: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} satisfies ParseArgsConfig['options'];

/** What a command needs in its argument list. */
const COMMANDS: Record<string, { args: 0 | 1 | 2; optional?: boolean; argName?: string; variadic?: boolean }> = {
  sync: { args: 0 },
  status: { args: 0 },
  current: { args: 0 },
  upgrade: { args: 1, optional: true, argName: 'target' },
  downgrade: { args: 1, argName: 'target' },
  stamp: { args: 1, argName: 'target' },
  create: { args: 0 },
  drop: { args: 0 },
  new: { args: 1, argName: 'name' },
  verify: { args: 0 },
  history: { args: 0 },
  import: { args: 2, argName: 'tool> <source-dir' },
  adopt: { args: 1, argName: 'tool' },
  lint: { args: 0, variadic: true },
};

class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

/** Where the CLI writes; tests pass their own. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function parse(argv: string[]): { command: string; arg: string | undefined; source: string | undefined; rest: string[]; values: Values } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // One line: node's parseArgs adds advice about "--" and "--opt=-value" on lines of their own.
    const lines = (error as Error).message.replace(/\. To specify a positional argument.*$/, '').split('\n');
    throw new UsageError(lines.filter((line) => !/^To specify /.test(line)).join(' '));
  }
  const [command = 'sync', ...rest] = parsed.positionals;
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
  if (!spec.variadic && rest.length > spec.args) throw new UsageError(`too many arguments for ${command}: ${rest.slice(spec.args).join(' ')}`);
  if (!spec.optional && rest.length < spec.args) {
    throw new UsageError(`${command} needs ${spec.args === 1 ? `a ${spec.argName}` : 'two arguments'}: sql-helpers-migrate ${command} <${spec.argName}>`);
  }
  const values = parsed.values as Values;
  if (values['lock-timeout'] !== undefined && !/^\d+$/.test(values['lock-timeout'])) {
    throw new UsageError(`--lock-timeout takes milliseconds, got "${values['lock-timeout']}"`);
  }
  if (values['ddl-lock-timeout'] !== undefined && parseDuration(values['ddl-lock-timeout']) === undefined) {
    throw new UsageError(`--ddl-lock-timeout takes a duration (250ms, 5s, 1min, milliseconds, or off), got "${values['ddl-lock-timeout']}"`);
  }
  if (values['ddl-lock-attempts'] !== undefined && !/^\d+$/.test(values['ddl-lock-attempts'])) {
    throw new UsageError(`--ddl-lock-attempts takes a whole number, got "${values['ddl-lock-attempts']}"`);
  }
  return { command, arg: rest[0], source: rest[1], rest, values };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

const formatTime = (date: Date | undefined) => (date ? date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

function listingTable(listing: MigrationListing[]): string {
  if (listing.length === 0) return '(no migrations)';
  return table([
    ['version', 'name', 'state', 'applied at', 'duration'],
    ...listing.map((entry) => [
      String(entry.version),
      entry.name,
      entry.noop ? `${entry.state} (no-op)` : entry.state,
      formatTime(entry.appliedAt),
      entry.durationMs === undefined ? '' : `${entry.durationMs} ms`,
    ]),
  ]);
}

function summary(runs: MigrationRun[], verb: string): string {
  if (runs.length === 0) return `nothing to ${verb === 'reverted' ? 'revert' : 'apply'}`;
  const total = runs.reduce((sum, run) => sum + run.durationMs, 0);
  return `${runs.length} migration${runs.length === 1 ? '' : 's'} ${verb} in ${total} ms`;
}

function slug(name: string): string {
  const cleaned = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!cleaned) throw new UsageError(`"${name}" leaves no letters or digits for a file name`);
  return cleaned;
}

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

function lintOutput(report: LintReport): string {
  const lines = report.findings.map((finding) => `${finding.file}:${finding.line}:${finding.column}: ${finding.rule}: ${finding.message}\n  why: ${finding.why}\n  instead: ${finding.recipe}`);
  for (const file of report.skipped) lines.push(`${file}: skipped (SQLite only)`);
  lines.push(`${report.findings.length} finding(s) in ${report.checked.length} file(s)`);
  return lines.join('\n');
}

async function runCommand(command: string, arg: string | undefined, values: Values, io: Output, source?: string, rest: string[] = []): Promise<number> {
  const dir = values.dir ?? DEFAULT_DIR;
  const json = values.json === true;
  const emit = (document: Record<string, unknown>) => io.out(JSON.stringify(document, null, 2));

  if (command === 'new') {
    const files = await newMigration(dir, arg!, values.down === true);
    if (json) emit({ command, files });
    else io.out(files.map((file) => `created ${file}`).join('\n'));
    return ExitCode.OK;
  }
  if (command === 'import') {
    const report = await importMigrations(arg!, source!, dir);
    if (json) emit({ command, dir, ...report });
    else io.out([...report.migrations.flatMap((entry) => [`${entry.from.join(' + ')} -> ${entry.to.join(' + ')}`, ...entry.notes.map((note) => `  ${note}`)]),
      `imported ${report.migrations.length} ${arg} migration(s) into ${dir}${report.renumbered ? ', renumbered 1, 2, 3… (its versions are not integers below 2^53)' : ''}; mapping in ${report.mappingFile}`].join('\n'));
    return ExitCode.OK;
  }
  if (command === 'lint' && rest.length > 0) {
    const report = await lintFiles(rest);
    if (json) emit({ command, ...report });
    else io.out(lintOutput(report));
    return report.findings.length > 0 ? ExitCode.FAILED : ExitCode.OK;
  }
  if (command === 'drop' && values.yes !== true) {
    throw new UsageError('drop deletes every table, view, sequence and type of the schema; run it again with --yes');
  }

  const uri = values.database ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE;
  const db = new DatabaseManager(uri, dir, {
    schema: values.schema,
    directUrl: values['direct-url'],
    versionTable: values.table,
    lockTimeoutMs: values['lock-timeout'] === undefined ? undefined : Number(values['lock-timeout']),
    ddlLockTimeoutMs: values['ddl-lock-timeout'] === undefined ? undefined : parseDuration(values['ddl-lock-timeout']),
    ddlLockAttempts: values['ddl-lock-attempts'] === undefined ? undefined : Number(values['ddl-lock-attempts']),
    allowOutOfOrder: values['allow-out-of-order'],
    logger: json ? undefined : { info: (message) => io.out(message), warn: (message) => io.err(message) },
  });
  const base = { command, database: db.url, dir };
  if (!json) io.out(`database: ${db.url}  migrations: ${dir}`);
  try {
    switch (command) {
      case 'sync': {
        const { result, applied } = await db.migrator.sync((query) => db.query(query));
        if (json) emit({ ...base, result, applied });
        else io.out(`${result.toLowerCase().replaceAll('_', ' ')}: ${summary(applied, 'applied')}`);
        return ExitCode.OK;
      }
      case 'upgrade':
      case 'create': {
        const applied = command === 'create' ? await db.create() : await db.upgrade(arg ?? 'head');
        if (json) emit({ ...base, applied });
        else io.out(summary(applied, 'applied'));
        return ExitCode.OK;
      }
      case 'downgrade': {
        const reverted = await db.downgrade(arg!);
        if (json) emit({ ...base, reverted });
        else io.out(summary(reverted, 'reverted'));
        return ExitCode.OK;
      }
      case 'stamp': {
        const stamped = await db.stamp(arg!);
        if (json) emit({ ...base, stamped });
        else io.out(stamped.length ? `stamped ${stamped.length} version(s): ${stamped.join(', ')}` : 'nothing to stamp');
        return ExitCode.OK;
      }
      case 'drop': {
        await db.drop();
        if (json) emit({ ...base, dropped: true });
        else io.out('dropped every object of the schema');
        return ExitCode.OK;
      }
      case 'current': {
        const current = await db.getCurrentRevision();
        if (json) emit({ ...base, current });
        else io.out(current === null ? 'current: none' : `current: ${current}`);
        return ExitCode.OK;
      }
      case 'status': {
        const { comparison, recorded } = await db.compare();
        const { listing, current, latest } = comparison;
        const status = statusOf(comparison, recorded);
        if (json) emit({ ...base, status, current, latest, migrations: listing });
        else io.out(`${listingTable(listing)}\nstatus: ${status} (current ${current ?? 'none'}, latest ${latest ?? 'none'})`);
        return values.check && status !== DatabaseStatus.UP_TO_DATE ? ExitCode.NOT_UP_TO_DATE : ExitCode.OK;
      }
      case 'history': {
        const applied = (await db.listMigrations()).filter((entry) => entry.state !== 'pending');
        applied.sort((a, b) => (a.appliedAt?.getTime() ?? 0) - (b.appliedAt?.getTime() ?? 0) || a.version - b.version);
        if (json) emit({ ...base, history: applied });
        else io.out(applied.length ? listingTable(applied) : 'no migration has been applied');
        return ExitCode.OK;
      }
      case 'adopt': {
        const report = await adopt(db, arg!, { table: values['from-table'] });
        if (json) emit({ ...base, ...report });
        else io.out(report.stamped.length > 0 ? `adopted: stamped ${report.stamped.length} version(s) that ${arg} had applied` : `nothing to stamp: ${report.applied.length === 0 ? `${arg} applied nothing` : 'already adopted'}`);
        return ExitCode.OK;
      }
      case 'lint': {
        const pending = (await db.compare()).comparison.pending.map((migration) => migration.version);
        const report = await lintFiles(await migrationFilesOf(dir, pending));
        if (json) emit({ ...base, ...report });
        else io.out(lintOutput(report));
        return report.findings.length > 0 ? ExitCode.FAILED : ExitCode.OK;
      }
      case 'verify': {
        const report = await db.verify();
        if (json) emit({ ...base, ...report });
        else io.out(report.ok ? 'ok: the files and the database agree' : report.problems.map((problem) => `${problem.code}: ${problem.message}`).join('\n'));
        return report.ok ? ExitCode.OK : ExitCode.FAILED;
      }
    }
    /* c8 ignore next */
    throw new UsageError(`unhandled command ${command}`);
  } finally {
    await db.close();
  }
}

function describe(error: unknown, showStack: boolean): { text: string; document: Record<string, unknown> } {
  const known = error instanceof SqlHelpersError || error instanceof UsageError;
  const err = error as Error & Partial<SqlHelpersError> & { file?: string; line?: number };
  const message = redactText(String(err?.message ?? error));
  const document: Record<string, unknown> = { name: err?.name ?? 'Error', code: err?.code ?? 'UNEXPECTED', message };
  for (const key of ['file', 'line', 'columnNumber', 'version', 'sqlState', 'files', 'versions', 'lockWait'] as const) {
    const value = (err as unknown as Record<string, unknown>)?.[key];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) document[key] = value;
  }
  let text = `error: ${message}${error instanceof SqlHelpersError ? ` [${err.code}]` : ''}`;
  if (showStack && err?.stack) text += `\n${redactText(err.stack)}`;
  else if (!known) text += '\n(an unexpected error: run again with --stack for details)';
  return { text, document };
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: Output = { out: (t) => console.log(t), err: (t) => console.error(t) }): Promise<number> {
  let json = argv.includes('--json');
  let showStack = argv.includes('--stack');
  try {
    const { command, arg, source, rest, values } = parse(argv);
    json = values.json === true;
    showStack = values.stack === true;
    if (values.help) {
      io.out(HELP);
      return ExitCode.OK;
    }
    if (values.version) {
      io.out(packageVersion());
      return ExitCode.OK;
    }
    return await runCommand(command, arg, values, io, source, rest);
  } catch (error) {
    const usage = error instanceof UsageError;
    const { text, document } = describe(error, showStack);
    if (json) io.out(JSON.stringify({ error: document }, null, 2));
    else io.err(usage ? `${text.replace(/^error: /, 'usage error: ')}\nrun with --help for usage` : text);
    return usage ? ExitCode.USAGE : ExitCode.FAILED;
  }
}

// Run when executed directly or through the npm bin symlink, not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
