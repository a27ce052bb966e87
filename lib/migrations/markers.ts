import { MigrationFileError, type MigrationFileErrorCode } from '../errors.js';
import { DURATION_FORMS, parseDuration } from './duration.js';
import { locate, scanScript, type CommentLine } from './statements.js';

/** What a file's `-- sql-helpers:…` marker lines ask for. */
export interface FileMarkers {
  /** `-- sql-helpers:lock-timeout 30s`: this file's lock timeout (0: none), instead of the configured one. */
  lockTimeoutMs: number | undefined;
  /** `-- sql-helpers:statement-timeout 10min`: a `statement_timeout` for this file (0: none). */
  statementTimeoutMs: number | undefined;
}

// A marker is a `--` comment alone on its line, as the scanner finds them: a `--` after a statement on the same
// line, or inside a /* */ comment, a string or a dollar quote, is not one.
const MARKER_LINE = /^--[ \t]*sql-helpers:[ \t]*([A-Za-z-]*)(.*)$/;

/** Every marker name a migration file may carry; `lint-ignore` is read by `lint` alone. */
export const MARKER_NAMES = ['no-transaction', 'lock-timeout', 'statement-timeout', 'lint-ignore'] as const;
const DURATION_MARKERS = { 'lock-timeout': 'lockTimeoutMs', 'statement-timeout': 'statementTimeoutMs' } as const;

/**
 * Reads the marker lines of `text` (the file `file`). Strict, because a marker that is silently ignored is a
 * migration that runs without the protection its author asked for: an unknown marker name, a duration that does
 * not parse, or the same duration marker twice is a `MigrationFileError` naming file and line.
 */
export function readMarkers(file: string, text: string, commentLines: readonly CommentLine[] = scanScript(text, 'postgres').commentLines): FileMarkers {
  const markers: FileMarkers = { lockTimeoutMs: undefined, statementTimeoutMs: undefined };
  for (const comment of commentLines) {
    const match = MARKER_LINE.exec(comment.text);
    if (match === null) continue;
    const [, name, rest] = match as unknown as [string, string, string];
    const { line } = locate(text, comment.offset);
    const fail = (problem: string, code: MigrationFileErrorCode) => {
      throw new MigrationFileError(`${file}:${line}: ${problem}`, { code, files: [file], line });
    };
    if (!(MARKER_NAMES as readonly string[]).includes(name)) {
      fail(`unknown marker "sql-helpers:${name}"; the markers are ${MARKER_NAMES.map((known) => `sql-helpers:${known}`).join(', ')}`, 'UNKNOWN_MARKER');
    }
    if (name === 'no-transaction' && rest.trim() !== '') fail('"-- sql-helpers:no-transaction" takes nothing after it', 'BAD_MARKER');
    if (!(name in DURATION_MARKERS)) continue;
    const field = DURATION_MARKERS[name as keyof typeof DURATION_MARKERS];
    const ms = parseDuration(rest);
    if (ms === undefined) fail(`"-- sql-helpers:${name}" needs a duration (${DURATION_FORMS}), got ${JSON.stringify(rest.trim())}`, 'BAD_MARKER');
    if (markers[field] !== undefined) fail(`"-- sql-helpers:${name}" is given twice; keep one`, 'BAD_MARKER');
    markers[field] = ms;
  }
  return markers;
}
