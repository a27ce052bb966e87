import type { DatabaseManager } from '../manager.js';
import type { DatabaseTarget } from '../uri.js';

/** A flag of one command: parsed with node's parseArgs, shown in --help with `help`. */
export interface CommandOption {
  type: 'string' | 'boolean';
  short?: string;
  /** `--flag VALUE  what it does`, as --help shows it. */
  help: string;
}

/** Every flag's value, as parseArgs returns them: strings for string flags, booleans for the others. */
export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * How a command uses the database: `none` never opens it; `read` opens it without ever creating it (a missing
 * SQLite file is `DATABASE_NOT_FOUND`); `write` opens it the way migrating does (a SQLite file is created).
 */
export type DatabaseUse = 'none' | 'read' | 'write';

/** What a command gets to run: its arguments, the flags, and the database opened on request. */
export interface CommandContext {
  /** The positional arguments after the command name. */
  readonly args: string[];
  readonly flags: FlagValues;
  /** The migrations folder (--dir). */
  readonly dir: string;
  /** The database URI as given (never print it: it may hold a password); `database` is the printable form. */
  readonly uri: string;
  readonly json: boolean;
  /** PostgreSQL: how long one connection attempt may take (--connect-timeout, the URL's, or the CLI's default). */
  readonly connectTimeoutMs: number | undefined;
  /** The URI parsed; an invalid one is an error that says whether it came from --database or DATABASE_URL. */
  target(): DatabaseTarget;
  /** Progress lines (text mode only; nothing in --json mode, whose document says it all). */
  progress(line: string): void;
  /** The manager on the database, opened once, the way `use` says; closed by the CLI after the command. */
  open(use?: Exclude<DatabaseUse, 'none'>, options?: { header?: 'stdout' | 'stderr' }): DatabaseManager;
}

/**
 * What a command returns: its fields of the one --json document, the text it prints otherwise, and its exit
 * code (0 when left out).
 */
export interface CommandResult {
  fields: Record<string, unknown>;
  text: string;
  exitCode?: number;
}

/**
 * One CLI command. Adding one is one file exporting this and one line in `commands.ts`:
 * `args` are shown and checked (`<x>` required, `[x]` optional, `[x...]` any number), `options` are its own
 * flags, `database` says whether it may create a database.
 */
export interface Command {
  name: string;
  args: string[];
  summary: string;
  database: DatabaseUse;
  options?: Record<string, CommandOption>;
  run(context: CommandContext): Promise<CommandResult>;
}

/** Bad usage: unknown command or flag, a missing argument. Exit 2, code `USAGE`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

/** Exit codes: 0 done, 1 failed, 2 bad usage; `status --check`: 3 sync would apply something, 4 sync would refuse. */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2, NOT_UP_TO_DATE: 3, WOULD_REFUSE: 4 } as const;

/** The `--dry-run` flag, shared by the commands that change the schema. */
export const DRY_RUN: Record<string, CommandOption> = {
  'dry-run': { type: 'boolean', help: '--dry-run           print each file that would run, whether in a transaction, and its SQL; change nothing' },
};
