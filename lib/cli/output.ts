import { SqlHelpersError } from '../errors.js';
import type { MigrationRun, PlannedStep } from '../migrations/migrator.js';
import type { MigrationListing } from '../migrations/plan.js';
import { redactText } from '../uri.js';
import { UsageError } from './command.js';
import { cliWords } from './words.js';

/** Where the CLI writes; tests pass their own. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Text columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

const formatTime = (date: Date | undefined) => (date ? date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

/** The status and history table. */
export function listingTable(listing: MigrationListing[]): string {
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

/** A listing row as --json shows it: every key present, `null` where there is no value (a pending row's times). */
export function listingDocument(entry: MigrationListing): Record<string, unknown> {
  return {
    version: entry.version,
    name: entry.name,
    state: entry.state,
    file: entry.file ?? null,
    hasDown: entry.hasDown,
    noop: entry.noop,
    appliedAt: entry.appliedAt?.toISOString() ?? null,
    durationMs: entry.durationMs ?? null,
  };
}

/** "3 migrations applied in 12 ms", or "nothing to apply". */
export function runsSummary(runs: MigrationRun[], verb: 'applied' | 'reverted'): string {
  if (runs.length === 0) return `nothing to ${verb === 'reverted' ? 'revert' : 'apply'}`;
  const total = runs.reduce((sum, run) => sum + run.durationMs, 0);
  return `${runs.length} migration${runs.length === 1 ? '' : 's'} ${verb} in ${total} ms`;
}

/** A --dry-run plan as text: each file with how it would run, then its SQL. */
export function planText(steps: PlannedStep[], verb: 'applied' | 'reverted'): string {
  const lines = [`dry run: ${steps.length === 0 ? `nothing would be ${verb}` : `${steps.length} migration${steps.length === 1 ? '' : 's'} would be ${verb}`}; nothing was changed`];
  for (const step of steps) {
    const how = step.noop ? 'a no-op' : step.transactional ? 'in a transaction' : 'outside a transaction (-- sql-helpers:no-transaction)';
    lines.push('', `-- ${step.file} (version ${step.version}, ${step.direction}, ${how})`, step.sql.trimEnd() || '-- (nothing to run)');
  }
  return lines.join('\n');
}

const ERROR_FIELDS = ['file', 'line', 'columnNumber', 'version', 'sqlState', 'systemCode', 'constraint', 'table', 'column', 'files', 'versions', 'lockWait'] as const;

/** An error as the CLI shows it: one or two lines of text, and the `error` member of the --json document. */
export function describeError(error: unknown, showStack: boolean): { text: string; document: Record<string, unknown> } {
  const known = error instanceof SqlHelpersError || error instanceof UsageError;
  const err = error as Error & Partial<SqlHelpersError>;
  const message = cliWords(redactText(String(err?.message ?? error)));
  const document: Record<string, unknown> = { name: err?.name ?? 'Error', code: err?.code ?? 'UNEXPECTED', message };
  for (const key of ERROR_FIELDS) {
    const value = (err as unknown as Record<string, unknown>)?.[key];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) document[key] = value;
  }
  let text = `error: ${message}${error instanceof SqlHelpersError ? ` [${err.code}]` : ''}`;
  if (showStack && err?.stack) text += `\n${redactText(err.stack)}`;
  else if (!known) text += '\n(an unexpected error: run again with --stack for details)';
  return { text, document };
}

/**
 * The one --json document of every command, success or failure: where it ran, whether it succeeded (`ok` is
 * true exactly when the exit code is 0), the command's own fields, warnings, and the error if any.
 * `docs/cli.schema.json` describes it.
 */
export function jsonDocument(
  base: { command: string | null; database: string | null; dir: string | null },
  exitCode: number,
  fields: Record<string, unknown>,
  extra: { warnings: string[]; error?: Record<string, unknown> },
): string {
  const document: Record<string, unknown> = { ...base, ok: exitCode === 0, exitCode, ...fields };
  if (extra.warnings.length > 0) document.warnings = extra.warnings;
  if (extra.error) document.error = extra.error;
  return JSON.stringify(document, null, 2);
}
