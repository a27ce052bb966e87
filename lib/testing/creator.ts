import { hostname } from 'node:os';

/** Who created a template or test database, recorded with it so that cleanup can tell a crashed run's leftovers. */
export interface Creator {
  pid: number;
  host: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** This process, now. */
export function thisProcess(): Creator {
  return { pid: process.pid, host: hostname(), createdAt: Date.now() };
}

/** Leftovers of a process on another host are removed only once they are older than this; a test run is shorter. */
export const FOREIGN_HOST_STALE_MS = 24 * 60 * 60 * 1000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the creator can no longer be using what it made: on this host, its process has exited; on
 * another host (whose processes cannot be seen) it was made more than `FOREIGN_HOST_STALE_MS` ago.
 */
export function isGone(creator: Creator, now = Date.now()): boolean {
  if (creator.host === hostname()) return creator.pid !== process.pid && !isRunning(creator.pid);
  return now - creator.createdAt > FOREIGN_HOST_STALE_MS;
}
