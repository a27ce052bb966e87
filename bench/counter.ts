// Counts round trips: every `pg` Client#query call (one protocol exchange, whether it carries one statement
// or a multi-statement script), and every better-sqlite3 call that runs SQL (Statement#run/get/all/iterate,
// Database#exec; pragma() goes through a Statement). Installed only while counting, so timed runs are unpatched.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Patch = { target: Record<string, unknown>; key: string; original: unknown };

let count = 0;
let patches: Patch[] = [];

function wrap(target: Record<string, unknown>, key: string): void {
  const original = target[key];
  if (typeof original !== 'function') return;
  patches.push({ target, key, original });
  target[key] = function (this: unknown, ...args: unknown[]) {
    count++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
}

/** The prototypes to patch: pg's Client (used by every Pool) and better-sqlite3's Database and Statement. */
function targets(): Array<[Record<string, unknown>, string[]]> {
  const pg = require('pg') as { Client: { prototype: Record<string, unknown> } };
  const Database = require('better-sqlite3') as new (file: string) => {
    prepare(text: string): object;
    close(): void;
  };
  const probe = new Database(':memory:');
  const statementPrototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  return [
    [pg.Client.prototype, ['query']],
    [(Database as unknown as { prototype: Record<string, unknown> }).prototype, ['exec']],
    [statementPrototype, ['run', 'get', 'all', 'iterate']],
  ];
}

export const RoundTrips = {
  /** Starts counting from zero. */
  start(): void {
    if (patches.length > 0) RoundTrips.stop();
    count = 0;
    for (const [target, keys] of targets()) for (const key of keys) wrap(target, key);
  },
  /** Stops counting and returns the count. */
  stop(): number {
    for (const { target, key, original } of patches.reverse()) target[key] = original;
    patches = [];
    return count;
  },
};
