import { ConfigurationError } from '../errors.js';
import { MAX_TIMEOUT_MS } from './duration.js';

/**
 * How a migration waits for the locks its statements need (PostgreSQL `lock_timeout`). `timeoutMs` bounds how
 * long one attempt may wait, and so how long the queries that queue behind a waiting `ALTER TABLE` can stall;
 * `attempts` is how many times a transactional migration that timed out is rolled back and tried again.
 */
export interface DdlLockPolicy {
  timeoutMs: number;
  attempts: number;
}

/** 5 s: long enough for ordinary transactions to finish, short enough that a stalled table is an incident, not an outage. */
export const DEFAULT_DDL_LOCK_TIMEOUT_MS = 5000;
/** Five attempts, waiting 1, 2, 3, 4 then 5 s (a fifth of the timeout more each time), about 15 s of backoff between them. */
export const DEFAULT_DDL_LOCK_ATTEMPTS = 5;
const MAX_ATTEMPTS = 100;

/** The policy from the manager's options, refused (`INVALID_OPTION`) when a value cannot work. */
export function ddlLockPolicy(options: { ddlLockTimeoutMs?: number | undefined; ddlLockAttempts?: number | undefined }): DdlLockPolicy {
  const timeoutMs = options.ddlLockTimeoutMs ?? DEFAULT_DDL_LOCK_TIMEOUT_MS;
  const attempts = options.ddlLockAttempts ?? DEFAULT_DDL_LOCK_ATTEMPTS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new ConfigurationError(
      `ddlLockTimeoutMs must be a whole number of milliseconds from 0 (no lock timeout) to ${MAX_TIMEOUT_MS}, got ${String(timeoutMs)}`,
      { code: 'INVALID_OPTION' },
    );
  }
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS) {
    throw new ConfigurationError(`ddlLockAttempts must be a whole number from 1 to ${MAX_ATTEMPTS}, got ${String(attempts)}`, {
      code: 'INVALID_OPTION',
    });
  }
  return { timeoutMs, attempts };
}

/**
 * The lock timeout of attempt `attempt` (1-based) of `attempts`: it grows evenly up to `capMs` on the last one.
 * Short first attempts catch a lock between two short transactions while stalling traffic least; later ones
 * outwait longer holders; none ever stalls the table longer than the configured timeout. 0 stays 0 (none).
 */
export function attemptTimeoutMs(capMs: number, attempt: number, attempts: number): number {
  if (capMs === 0) return 0;
  return Math.max(1, Math.round((capMs * attempt) / attempts));
}

/**
 * The pause after failed attempt `attempt`: a fifth of the timeout, doubled each time, times a jitter in
 * [0.5, 1.5) so that services starting together do not retry in step. The pause lets the queries that queued
 * behind the migration run before it queues again.
 */
export function backoffMs(capMs: number, attempt: number, random: () => number = Math.random): number {
  return Math.round((capMs / 5) * 2 ** (attempt - 1) * (0.5 + random()));
}
