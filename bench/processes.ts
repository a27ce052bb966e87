// Whole-process runs (cold starts, concurrent CLI syncs), and round trips counted inside them.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(ROOT, 'lib', 'migrate.js');
export const NODE_PG_MIGRATE_CLI = join(ROOT, 'node_modules', 'node-pg-migrate', 'bin', 'node-pg-migrate.js');
const PRELOAD = join(ROOT, 'bench', 'count-preload.js');

export interface RunOptions {
  env?: Record<string, string>;
  /** Count round trips inside the child (with the preload); the totals of every counted child add up. */
  countInto?: string;
}

/** Spawns `node args…`, waits for it, and rejects unless it exits 0. */
export function node(args: string[], options: RunOptions = {}): Promise<void> {
  const preload = options.countInto ? ['--import', PRELOAD] : [];
  const env = { ...process.env, ...options.env, ...(options.countInto ? { BENCH_ROUND_TRIPS_FILE: options.countInto } : {}) };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...preload, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.trim().slice(0, 500)}`)),
    );
  });
}

let counter = 0;

/** A file for children to add their round-trip counts to, and a reader that sums and removes it. */
export function tripsFile(): { path: string; total(): Promise<number> } {
  const path = join(tmpdir(), `sqlh-bench-trips-${process.pid}-${counter++}`);
  return {
    path,
    async total() {
      const text = await readFile(path, 'utf8').catch(() => '');
      await rm(path, { force: true });
      return text
        .split('\n')
        .filter(Boolean)
        .reduce((sum, line) => sum + Number(line), 0);
    },
  };
}
