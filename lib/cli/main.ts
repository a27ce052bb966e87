import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigurationError, MigrationFileError } from '../errors.js';
import { createDatabaseIfMissing } from '../driver/load.js';
import { maintenanceUri } from '../driver/postgres-create.js';
import { DatabaseManager } from '../manager.js';
import { parseDuration } from '../migrations/duration.js';
import { parseDatabaseUri, redactUri } from '../uri.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_WAIT_TIMEOUT_MS, waitForDatabase } from '../wait.js';
import { ExitCode, UsageError, type Command, type CommandContext, type CommandOption, type DatabaseUse, type FlagValues } from './command.js';
import { COMMANDS } from './commands.js';
import { describeError, jsonDocument, type Output } from './output.js';

export { ExitCode } from './command.js';
export type { Output } from './output.js';

/** The database used when neither --database nor DATABASE_URL is given. */
export const DEFAULT_DATABASE = 'sqlite:./app.db';
/** The migrations folder used when --dir is not given. */
export const DEFAULT_DIR = './sql';

/** Flags every command takes. */
const GLOBAL_OPTIONS: Record<string, CommandOption> = {
  database: { type: 'string', short: 'd', help: `-d, --database URL   database URI (else $DATABASE_URL, else ${DEFAULT_DATABASE})` },
  dir: { type: 'string', help: `--dir DIR            migrations folder (default ${DEFAULT_DIR})` },
  'env-file': { type: 'string', help: '--env-file PATH      load environment variables (DATABASE_URL …) from a .env file first; set ones win' },
  json: { type: 'boolean', help: '--json               print one JSON document (docs/cli.schema.json) instead of text' },
  schema: { type: 'string', help: '--schema NAME        PostgreSQL schema to manage (default: the connection\'s current schema)' },
  'direct-url': { type: 'string', help: '--direct-url URL     PostgreSQL: the same database past any pooler, for the migrations\' connections' },
  table: { type: 'string', help: '--table NAME         version table (default sql_helpers_migrations)' },
  'lock-timeout': { type: 'string', help: '--lock-timeout MS    how long to wait for another migrating process (default 300000)' },
  'ddl-lock-timeout': {
    type: 'string',
    help: '--ddl-lock-timeout T PostgreSQL: how long a migration may wait for a table lock per attempt (5s; 0 or off = no limit)',
  },
  'ddl-lock-attempts': { type: 'string', help: '--ddl-lock-attempts N PostgreSQL: attempts of a migration that timed out on a lock (default 5)' },
  'connect-timeout': {
    type: 'string',
    help: `--connect-timeout MS how long one connection attempt may take (default ?connect_timeout= of the URL, else ${DEFAULT_CONNECT_TIMEOUT_MS})`,
  },
  'allow-out-of-order': { type: 'boolean', help: '--allow-out-of-order apply pending files older than the newest applied one' },
  wait: { type: 'boolean', help: '--wait               first wait until the database accepts connections (see wait)' },
  'wait-timeout': { type: 'string', help: `--wait-timeout MS    how long wait and --wait wait in all (default ${DEFAULT_WAIT_TIMEOUT_MS})` },
  'create-database': {
    type: 'boolean',
    help:
      '--create-database    PostgreSQL: create the database itself (CREATE DATABASE, through the maintenance database\n' +
      '                       postgres) when it does not exist; the create command is another thing: it applies every\n' +
      '                       migration to an empty database that exists',
  },
  stack: { type: 'boolean', help: '--stack              show the stack trace of an error' },
  help: { type: 'boolean', short: 'h', help: '-h, --help           show this help' },
  version: { type: 'boolean', short: 'V', help: '-V, --version        print the version' },
};

const NUMERIC_FLAGS = ['lock-timeout', 'connect-timeout', 'wait-timeout'] as const;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Commands that declare each command-specific flag, for --help and for the error when another command gets it. */
function commandFlags(): Map<string, { option: CommandOption; commands: string[] }> {
  const flags = new Map<string, { option: CommandOption; commands: string[] }>();
  for (const command of COMMANDS) {
    for (const [flag, option] of Object.entries(command.options ?? {})) {
      const entry = flags.get(flag) ?? { option, commands: [] };
      entry.commands.push(command.name);
      flags.set(flag, entry);
    }
  }
  return flags;
}

function usageLine(command: Command): string {
  return [command.name, ...command.args].join(' ');
}

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => usageLine(command).length)) + 2;
  const commands = COMMANDS.map((command) => `  ${usageLine(command).padEnd(width)} ${command.summary.replaceAll('\n', `\n  ${' '.repeat(width)} `)}`);
  const own = [...commandFlags()].map(([, { option, commands }]) => `  ${option.help} (${commands.join(', ')})`);
  const global = Object.values(GLOBAL_OPTIONS).map((option) => `  ${option.help}`);
  return [
    'Usage: sql-helpers-migrate [command] [arguments] [options]',
    '',
    'Commands:',
    ...commands,
    '',
    'Command options:',
    ...own,
    '',
    'Options:',
    ...global,
    '',
    'Exit codes: 0 done, 1 failed, 2 bad usage; status --check: 3 sync would apply something, 4 sync would refuse',
    '(drift, a missing file, out of order, database ahead). docs/cli.md describes every command.',
  ].join('\n');
}

interface Parsed {
  command: Command;
  args: string[];
  flags: FlagValues;
}

function parse(argv: string[]): Parsed {
  const own = commandFlags();
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [flag, option] of [...Object.entries(GLOBAL_OPTIONS), ...[...own].map(([flag, entry]) => [flag, entry.option] as const)]) {
    options[flag] = option.short === undefined ? { type: option.type } : { type: option.type, short: option.short };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    // One line: node's parseArgs adds advice about "--" and "--opt=-value" on lines of their own.
    const lines = (error as Error).message.replace(/\. To specify a positional argument.*$/, '').split('\n');
    throw new UsageError(lines.filter((line) => !/^To specify /.test(line)).join(' '));
  }
  const flags = parsed.values as FlagValues;
  const [name = 'sync', ...args] = parsed.positionals;
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (flags.help) return { command: command ?? COMMANDS[0]!, args: [], flags };
  if (!command) throw new UsageError(`unknown command "${name}"; commands: ${COMMANDS.map((candidate) => candidate.name).join(', ')}`);
  const required = command.args.filter((arg) => arg.startsWith('<'));
  const variadic = command.args.some((arg) => arg.endsWith('...]'));
  if (!variadic && args.length > command.args.length) throw new UsageError(`too many arguments for ${name}: ${args.slice(command.args.length).join(' ')}`);
  if (args.length < required.length) {
    const what = required.length === 1 ? `a ${required[0]!.slice(1, -1)}` : required.length === 2 ? 'two arguments' : `${required.length} arguments`;
    throw new UsageError(`${name} needs ${what}: sql-helpers-migrate ${name} ${required.join(' ')}`);
  }
  for (const flag of Object.keys(flags)) {
    const entry = own.get(flag);
    if (entry && !(flag in (command.options ?? {}))) throw new UsageError(`--${flag} is for ${entry.commands.join(', ')}, not ${name}`);
  }
  for (const flag of NUMERIC_FLAGS) {
    const value = flags[flag];
    if (value !== undefined && (!/^\d+$/.test(String(value)) || (flag !== 'lock-timeout' && Number(value) === 0))) {
      throw new UsageError(`--${flag} takes milliseconds, got "${String(value)}"`);
    }
  }
  const ddlLockTimeout = flags['ddl-lock-timeout'];
  if (ddlLockTimeout !== undefined && parseDuration(String(ddlLockTimeout)) === undefined) {
    throw new UsageError(`--ddl-lock-timeout takes a duration (250ms, 5s, 1min, milliseconds, or off), got "${String(ddlLockTimeout)}"`);
  }
  if (flags['ddl-lock-attempts'] !== undefined && !/^\d+$/.test(String(flags['ddl-lock-attempts']))) {
    throw new UsageError(`--ddl-lock-attempts takes a whole number, got "${String(flags['ddl-lock-attempts'])}"`);
  }
  if (flags['create-database'] && command.database !== 'write') {
    throw new UsageError(`--create-database is for the commands that migrate (${COMMANDS.filter((c) => c.database === 'write').map((c) => c.name).join(', ')}), not ${name}`);
  }
  return { command, args, flags };
}

/** `process.loadEnvFile` (Node 20.12+): values already in the environment are kept. */
function loadEnvFile(path: string): void {
  const load = (process as { loadEnvFile?: (path: string) => void }).loadEnvFile;
  /* c8 ignore next */
  if (typeof load !== 'function') throw new UsageError(`--env-file needs Node 20.12 or later (this is ${process.version})`);
  try {
    // Read first: Node 20's loadEnvFile ends the whole process (exit 9) on a missing file instead of throwing.
    readFileSync(path);
    load(path);
  } catch (error) {
    throw new ConfigurationError(`cannot read --env-file ${JSON.stringify(path)}: ${(error as Error).message}`, { code: 'ENV_FILE_UNREADABLE', cause: error });
  }
}

/** The database URI and where it came from, for messages about it. */
function databaseUri(flags: FlagValues): { uri: string; source: string } {
  if (flags.database !== undefined) return { uri: String(flags.database), source: '--database' };
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv !== undefined) return { uri: fromEnv, source: 'DATABASE_URL' };
  return { uri: DEFAULT_DATABASE, source: 'the default' };
}

// A URI error says which of --database, DATABASE_URL or the default it is about.
function checkUri(uri: string, source: string): ReturnType<typeof parseDatabaseUri> {
  try {
    return parseDatabaseUri(uri);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    const empty = uri.trim() === '' ? ` is set but empty: set it to a database URI, or ${source === 'DATABASE_URL' ? 'unset it' : 'leave it out'} to use ${DEFAULT_DATABASE}` : '';
    throw new ConfigurationError(`${source}${empty ? empty : `: ${error.message}`}`, { code: error.code, cause: error });
  }
}

class Context implements CommandContext {
  readonly dir: string;
  readonly json: boolean;
  readonly uri: string;
  readonly #source: string;
  readonly #io: Output;
  readonly #command: Command;
  #db: DatabaseManager | undefined;

  constructor(
    command: Command,
    readonly args: string[],
    readonly flags: FlagValues,
    io: Output,
  ) {
    this.#command = command;
    this.#io = io;
    this.dir = String(flags.dir ?? DEFAULT_DIR);
    this.json = flags.json === true;
    const { uri, source } = databaseUri(flags);
    this.uri = uri;
    this.#source = source;
  }

  get connectTimeoutMs(): number | undefined {
    const flag = this.flags['connect-timeout'];
    if (flag !== undefined) return Number(flag);
    return /[?&]connect_timeout=/.test(this.uri) ? undefined : DEFAULT_CONNECT_TIMEOUT_MS;
  }

  progress(line: string): void {
    if (!this.json) this.#io.out(line);
  }

  /** The target, checked; a URI error names its source. */
  target() {
    return checkUri(this.uri, this.#source);
  }

  open(use: Exclude<DatabaseUse, 'none'> = this.#command.database === 'write' ? 'write' : 'read', options: { header?: 'stdout' | 'stderr' } = {}): DatabaseManager {
    if (this.#db) return this.#db;
    const target = this.target();
    if (!this.json) {
      const line = `database: ${target.redacted}  migrations: ${this.dir}`;
      if (options.header === 'stderr') this.#io.err(line);
      else this.#io.out(line);
    }
    // A migrating command with no migrations folder fails before it creates a SQLite file it would leave behind.
    if (use === 'write' && !existsSync(this.dir)) {
      throw new MigrationFileError(`migrations folder ${JSON.stringify(this.dir)} does not exist; create it or pass the right folder (--dir)`, {
        code: 'MIGRATIONS_DIR_MISSING',
      });
    }
    const flags = this.flags;
    const logger = this.json ? undefined : { info: (message: string) => this.#io.out(message), warn: (message: string) => this.#io.err(message) };
    this.#db = new DatabaseManager(this.uri, this.dir, {
      schema: flags.schema as string | undefined,
      directUrl: flags['direct-url'] as string | undefined,
      versionTable: flags.table as string | undefined,
      lockTimeoutMs: flags['lock-timeout'] === undefined ? undefined : Number(flags['lock-timeout']),
      ddlLockTimeoutMs: flags['ddl-lock-timeout'] === undefined ? undefined : parseDuration(String(flags['ddl-lock-timeout'])),
      ddlLockAttempts: flags['ddl-lock-attempts'] === undefined ? undefined : Number(flags['ddl-lock-attempts']),
      connectTimeoutMs: target.dialect === 'postgres' ? this.connectTimeoutMs : undefined,
      allowOutOfOrder: flags['allow-out-of-order'] as boolean | undefined,
      logger,
      // Reading never creates a SQLite file: a typo in the path is an error, not a new empty database.
      ...(use === 'read' && target.dialect === 'sqlite' ? { engineArgs: { fileMustExist: true } } : {}),
    });
    return this.#db;
  }

  /** --wait and --create-database, before the command runs. */
  async prepare(): Promise<void> {
    const flags = this.flags;
    if (!flags.wait && !flags['create-database']) return;
    const target = this.target();
    const create = flags['create-database'] === true && target.dialect === 'postgres';
    // A SQLite file that a migrating command will create is not waited for.
    if (flags.wait && !(target.dialect === 'sqlite' && this.#command.database === 'write')) {
      const waited = await waitForDatabase(create ? maintenanceUri(this.uri) : this.uri, {
        timeoutMs: flags['wait-timeout'] === undefined ? undefined : Number(flags['wait-timeout']),
        connectTimeoutMs: this.connectTimeoutMs,
      });
      this.progress(`database ready after ${waited.waitedMs} ms (${waited.attempts} attempt${waited.attempts === 1 ? '' : 's'})`);
    }
    if (create && (await createDatabaseIfMissing(this.uri, { connectTimeoutMs: this.connectTimeoutMs }))) {
      this.progress(`created database ${JSON.stringify(target.database)}`);
    }
  }

  async close(): Promise<void> {
    await this.#db?.close();
  }
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: Output = { out: (t) => console.log(t), err: (t) => console.error(t) }): Promise<number> {
  let json = argv.includes('--json');
  let showStack = argv.includes('--stack');
  let base: { command: string | null; database: string | null; dir: string | null } = { command: null, database: null, dir: null };
  // A driver's process warning (pg's multi-line SSL notice) becomes one line, or an entry of the --json document.
  const warnings: string[] = [];
  const defaultListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (warning: Error) => void warnings.push(warning.message.split('\n')[0]!);
  process.on('warning', onWarning);
  const flushWarnings = () => {
    if (!json) for (const warning of warnings.splice(0)) io.err(`warning: ${warning}`);
  };
  try {
    const { command, args, flags } = parse(argv);
    json = flags.json === true;
    showStack = flags.stack === true;
    if (flags.help) {
      io.out(help());
      return ExitCode.OK;
    }
    if (flags.version) {
      io.out(packageVersion());
      return ExitCode.OK;
    }
    if (flags['env-file'] !== undefined) loadEnvFile(String(flags['env-file']));
    const context = new Context(command, args, flags, io);
    base = { command: command.name, database: redactUri(context.uri), dir: context.dir };
    try {
      await context.prepare();
      const result = await command.run(context);
      const exitCode = result.exitCode ?? ExitCode.OK;
      flushWarnings();
      if (json) io.out(jsonDocument(base, exitCode, result.fields, { warnings }));
      else if (result.text !== '') io.out(result.text);
      return exitCode;
    } finally {
      await context.close();
    }
  } catch (error) {
    const usage = error instanceof UsageError;
    const exitCode = usage ? ExitCode.USAGE : ExitCode.FAILED;
    const { text, document } = describeError(error, showStack);
    flushWarnings();
    if (json) io.out(jsonDocument(base, exitCode, {}, { warnings, error: document }));
    else io.err(usage ? `${text.replace(/^error: /, 'usage error: ')}\nrun with --help for usage` : text);
    return exitCode;
  } finally {
    process.off('warning', onWarning);
    for (const listener of defaultListeners) process.on('warning', listener);
  }
}
