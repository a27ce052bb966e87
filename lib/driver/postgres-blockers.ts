import type { Client } from 'pg';
import type { LockBlocker, LockWait } from './driver.js';

/** How much of a blocker's query a message shows. */
export const QUERY_EXCERPT = 100;

// Dollar-quoted bodies and string literals (E'' and '' escapes included), unterminated ones to the end.
const LITERALS = /\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?(?:\$\1\$|$)|\b[eE]'(?:[^'\\]|\\[\s\S]|'')*(?:'|$)|'(?:[^']|'')*(?:'|$)/g;

/**
 * The start of a query as messages may show it: string literals and dollar-quoted bodies replaced by `'…'`,
 * whitespace collapsed, cut at `QUERY_EXCERPT` characters. Another session's query may carry a password
 * (`ALTER ROLE … PASSWORD '…'`) or personal data in its literals; its shape is what tells an operator who it is.
 */
export function queryExcerpt(query: string): string {
  const shape = query.replace(LITERALS, "'…'").replace(/\s+/g, ' ').trim();
  return shape.length > QUERY_EXCERPT ? `${shape.slice(0, QUERY_EXCERPT - 1)}…` : shape;
}

// The session whose application_name starts with $1 waits for a lock: what it wants, and every session that
// pg_blocking_pids() says it waits for (holders, and waiters queued ahead of it), oldest transaction first.
const PROBE = `
  SELECT l.locktype, l.mode,
         CASE WHEN l.locktype = 'relation' THEN l.relation::regclass::text END AS relation,
         b.pid, b.application_name, b.usename AS "user", b.state,
         extract(epoch FROM clock_timestamp() - coalesce(b.xact_start, b.query_start, b.backend_start))::float8 AS seconds,
         left(b.query, 4000) AS query,
         ARRAY(SELECT DISTINCT h.mode FROM pg_locks h
                WHERE h.pid = b.pid AND h.granted AND l.locktype = 'relation'
                  AND h.locktype = 'relation' AND h.relation = l.relation AND h.database = l.database) AS held
    FROM pg_stat_activity w
    JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted
    CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocking(pid)
    JOIN pg_stat_activity b ON b.pid = blocking.pid
   WHERE starts_with(w.application_name, $1) AND w.pid <> pg_backend_pid()
   ORDER BY b.xact_start NULLS LAST, b.pid`;

interface ProbeRow {
  locktype: string;
  mode: string;
  relation: string | null;
  pid: number;
  application_name: string | null;
  user: string | null;
  state: string | null;
  seconds: number | null;
  query: string | null;
  held: string[] | null;
}

/**
 * Looks, from a connection of its own, at what a migration waits for while it waits. The migration names itself
 * with an `application_name` that starts with a token of its own (set for its transaction), so it can be found
 * through a transaction pooler too, where its server process is not known in advance.
 */
export class LockWatcher {
  readonly #connect: () => Promise<Client>;
  #client: Promise<Client> | undefined;

  constructor(connect: () => Promise<Client>) {
    this.#connect = connect;
  }

  /** What the session named `prefix…` waits for now, or `undefined` when it does not wait for a lock. */
  async probe(prefix: string): Promise<LockWait | undefined> {
    try {
      this.#client ??= this.#connect();
      const client = await this.#client;
      const { rows } = await client.query<ProbeRow>(PROBE, [prefix]);
      const first = rows[0];
      if (first === undefined) return undefined;
      const blockers: LockBlocker[] = rows.map((row) => ({
        pid: row.pid,
        applicationName: row.application_name ?? '',
        user: row.user,
        state: row.state,
        seconds: row.seconds === null ? null : Math.round(row.seconds),
        heldModes: row.held ?? [],
        query: queryExcerpt(row.query ?? ''),
      }));
      return { relation: first.relation, lockType: first.locktype, mode: first.mode, blockers };
    } catch {
      // Looking is a courtesy: a failed look (no connection left, a revoked pg_stat_activity) must not fail the migration.
      this.#client = undefined;
      return undefined;
    }
  }

  /**
   * Probes every `everyMs` until `stop()`, which resolves to the last wait seen; `onWait` hears the first one.
   * A migration that is merely slow is never seen waiting, and costs one cheap query per period.
   */
  watch(prefix: string, everyMs: number, onWait?: (wait: LockWait) => void): { stop(): Promise<LockWait | undefined> } {
    let last: LockWait | undefined;
    let running: Promise<void> = Promise.resolve();
    let stopped = false;
    const tick = () => {
      running = this.probe(prefix).then((wait) => {
        if (stopped || wait === undefined) return;
        if (last === undefined) onWait?.(wait);
        last = wait;
      });
    };
    const timer = setInterval(tick, everyMs);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await running;
        stopped = true;
        return last;
      },
    };
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.then((c) => c.end()).catch(() => undefined);
  }
}
