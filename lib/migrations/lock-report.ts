import type { LockBlocker, LockWait } from '../driver/driver.js';
import { formatDuration } from './duration.js';

const SHOWN_BLOCKERS = 3;

/** `AccessExclusiveLock on table public.users`, or the lock type when it is not a relation. */
export function lockTarget(wait: LockWait): string {
  return wait.relation === null ? `${wait.mode} (${wait.lockType} lock)` : `${wait.mode} on ${wait.relation}`;
}

/** One blocker as a message shows it: who, in what state, for how long, holding what, running what. */
export function describeBlocker(blocker: LockBlocker): string {
  const facts = [
    `application ${JSON.stringify(blocker.applicationName)}`,
    ...(blocker.user === null ? [] : [`user ${blocker.user}`]),
    ...(blocker.state === null ? [] : [blocker.seconds === null ? blocker.state : `${blocker.state}, in its transaction for ${blocker.seconds} s`]),
    ...(blocker.heldModes.length > 0 ? [`holding ${blocker.heldModes.join(', ')}`] : []),
  ];
  return `pid ${blocker.pid} (${facts.join('; ')}), query: ${JSON.stringify(blocker.query)}`;
}

/** Who holds the lock, for progress lines and errors. */
export function describeBlockers(wait: LockWait): string {
  const shown = wait.blockers.slice(0, SHOWN_BLOCKERS).map(describeBlocker).join('; ');
  const more = wait.blockers.length - SHOWN_BLOCKERS;
  return `held by ${shown}${more > 0 ? `; and ${more} more` : ''}`;
}

/** The progress line when a migration has been waiting for a lock for half its timeout. */
export function waitingLine(file: string, wait: LockWait, lockTimeoutMs: number, attempt: number, attempts: number): string {
  const limit = lockTimeoutMs > 0 ? `gives up after ${formatDuration(lockTimeoutMs)}, attempt ${attempt} of ${attempts}` : 'no lock timeout';
  return `${file}: waiting for ${lockTarget(wait)}, ${describeBlockers(wait)} (${limit})`;
}

/** What the `DDL_LOCK_TIMEOUT` error says: which migration, which lock, who holds it, what happened and what to do. */
export function lockTimeoutMessage(details: {
  where: string;
  transactional: boolean;
  lockTimeoutMs: number;
  attempts: number;
  wait: LockWait | undefined;
}): string {
  const { where, wait } = details;
  const lock = wait ? lockTarget(wait) : 'a lock';
  const tries = details.attempts > 1 ? ` on each of ${details.attempts} attempts` : '';
  const outcome = details.transactional
    ? 'each attempt was rolled back, nothing of it remains'
    : 'statements before it in this no-transaction file stay applied, the version was not recorded, and it was not retried ' +
      '(a CREATE INDEX CONCURRENTLY cut short leaves an INVALID index: drop it with DROP INDEX CONCURRENTLY IF EXISTS before running again)';
  const holders = wait
    ? `It was ${describeBlockers(wait)} (queries cut to their start, string literals hidden).`
    : 'The holder could not be looked up (it let go just before, or this role cannot see pg_stat_activity).';
  const pid = wait?.blockers[0]?.pid;
  const advice =
    `Let that transaction finish${pid === undefined ? '' : `, or end it if it is stuck (SELECT pg_terminate_backend(${pid}))`}, then run sync again; ` +
    'if this file may make traffic wait longer, give it a line "-- sql-helpers:lock-timeout 30s".';
  return `${where}: could not get ${lock} within ${formatDuration(details.lockTimeoutMs)}${tries} (${outcome}). ${holders} ${advice}`;
}
