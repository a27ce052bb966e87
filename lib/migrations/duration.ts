/** The largest timeout PostgreSQL accepts for `lock_timeout` / `statement_timeout` (an int of milliseconds). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

const UNITS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };
const DURATION = /^(\d+)[ \t]*(ms|s|min|h)?$/;

/**
 * Milliseconds of a duration written `250ms`, `5s`, `10min`, `1h`, a bare integer (milliseconds, as PostgreSQL
 * reads `lock_timeout`), or `off` / `0` for none; `undefined` when the text is anything else. Strict on purpose:
 * `5 seconds`, `1.5s` or `-1` are refused rather than guessed at.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === 'off') return 0;
  const match = DURATION.exec(trimmed);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  return Number.isSafeInteger(ms) && ms <= MAX_TIMEOUT_MS ? ms : undefined;
}

/** How a duration is written back in messages: `5000 ms` reads worse than `5 s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return 'off';
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/** What `parseDuration` accepts, for error messages. */
export const DURATION_FORMS = '250ms, 5s, 10min, 1h, a bare number of milliseconds, or off';
