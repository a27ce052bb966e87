/**
 * `npm test`: every suite directly against SQLite and PostgreSQL, then the PostgreSQL suites again through
 * a PgBouncer in transaction mode that this script starts and stops. c8 wraps this script; the test
 * processes inherit its coverage settings. Prints the total counts last.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startPgBouncer } from './topology/pgbouncer.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const DIRECT_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Suites that talk to PostgreSQL through a session: they run a second time behind the pooler. */
const POOLED_SUITES = [
  'lifecycle',
  'helpers',
  'helpers-race',
  'concurrency',
  'faults',
  'session',
  'cli',
  'zero-downtime',
];

interface Counts {
  pass: number;
  fail: number;
}

function runPass(label: string, files: string[], env: Record<string, string>): Promise<Counts & { code: number }> {
  const reporter = process.stdout.isTTY ? 'spec' : 'tap';
  console.log(`\n=== ${label}: ${files.length} suites ===`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', `--test-reporter=${reporter}`, ...files], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const counts: Counts = { pass: 0, fail: 0 };
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      process.stdout.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const match = /^(?:# |ℹ )(pass|fail) (\d+)$/.exec(line.trim());
        if (match) counts[match[1] as keyof Counts] = Number(match[2]);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...counts, code: code ?? 1 }));
  });
}

const all = (await readdir(here)).filter((name) => name.endsWith('.test.js')).sort();
const results = [await runPass('direct: SQLite and PostgreSQL', all.map((name) => here + name), {})];

const pooler = await startPgBouncer({ poolSize: 6 });
try {
  const pooled = POOLED_SUITES.map((suite) => `${here}${suite}.test.js`);
  results.push(
    await runPass(`through PgBouncer 1.18 (transaction mode, port ${pooler.port})`, pooled, {
      TEST_TOPOLOGY: 'pgbouncer',
      TEST_DATABASE_URL: pooler.url(new URL(DIRECT_URL).pathname.slice(1)),
      TEST_ADMIN_URL: DIRECT_URL,
      TEST_DIALECTS: 'postgres',
    }),
  );
} finally {
  await pooler.stop();
}

const total = results.reduce((sum, result) => ({ pass: sum.pass + result.pass, fail: sum.fail + result.fail }), { pass: 0, fail: 0 });
console.log(`\n# pass ${total.pass}\n# fail ${total.fail}`);
process.exitCode = results.some((result) => result.code !== 0) ? 1 : 0;
