// `npm run bench [-- --json] [-- --quick] [-- --only name,name]`: runs every scenario on this machine
// against the local PostgreSQL and SQLite files and prints one Markdown table (and bench/results.json).
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configFrom } from './config.js';
import { admin, cleanupAll } from './databases.js';
import { makeFixtures } from './fixtures.js';
import { ROOT } from './processes.js';
import { json, markdown, type Row } from './report.js';
import { coldStart } from './scenarios/cold-start.js';
import { concurrentSync } from './scenarios/concurrent-sync.js';
import { helpersPg } from './scenarios/helpers-pg.js';
import { helpersSqlite } from './scenarios/helpers-sqlite.js';
import { migratePg } from './scenarios/migrate-pg.js';
import { migrateSqlite } from './scenarios/migrate-sqlite.js';
import { noopSync } from './scenarios/noop-sync.js';
import { peersPg, peersSqlite } from './scenarios/peers-helpers.js';
import { testDatabase } from './scenarios/test-database.js';
import { upToDate } from './uptodate.js';
import { startPgBouncer } from '../test/topology/pgbouncer.js';

const argv = process.argv.slice(2);
const config = configFrom(argv);
const onlyArg = argv.find((arg) => arg.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : undefined;
const wanted = (name: string) => only === undefined || only.has(name);
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg();
  const server = (await admin('SHOW server_version')).rows[0].server_version as string;
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${server}`;
  log(`${machine}${config.quick ? ' (quick)' : ''}`);
  const rows: Row[] = [];
  const step = async (name: string, fn: () => Promise<Row[]>) => {
    if (!wanted(name)) return;
    const t = performance.now();
    log(`${name} …`);
    rows.push(...(await fn()));
    log(`${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  const fixtures = await makeFixtures(config);
  await step('helpers-pg', () => helpersPg(config));
  await step('helpers-pgbouncer', async () => {
    const pooler = await startPgBouncer({ poolSize: 8 });
    try {
      return await helpersPg(config, pooler);
    } finally {
      await pooler.stop();
    }
  });
  await step('helpers-sqlite', () => helpersSqlite(config));
  await step('peers-pg', () => peersPg(config));
  await step('peers-sqlite', () => peersSqlite(config));
  await step('migrate-pg', () => migratePg(config, fixtures));
  await step('migrate-sqlite', () => migrateSqlite(config, fixtures));
  if (wanted('noop-sync') || wanted('cold-start')) {
    const dbs = await upToDate(fixtures);
    try {
      await step('noop-sync', () => noopSync(config, fixtures, dbs));
      await step('cold-start', () => coldStart(config, fixtures, dbs));
    } finally {
      await dbs.drop();
    }
  }
  await step('concurrent-sync', () => concurrentSync(config, fixtures));
  await step('test-database', () => testDatabase(config, fixtures));
  const seconds = (performance.now() - started) / 1000;
  const notes = [
    `Machine: ${machine}. Total ${seconds.toFixed(0)} s. Load average (1, 5, 15 min) at the start ${loadAtStart.map((l) => l.toFixed(1)).join(', ')}, at the end ${loadavg().map((l) => l.toFixed(1)).join(', ')} (on ${cpus().length} cores).`,
    `Each comparison ran its sides interleaved in one process (A B A B …, order alternating per round) after one untimed warm-up round, which also counted round trips; figures are medians, ratios are medians of per-round ratios. "rounds" = timed rounds.`,
    `Round trips: pg Client#query calls (a multi-statement script sent in one message is one) / better-sqlite3 calls that run SQL, per operation or per migration; psql: statements in its script (BEGIN, 3, COMMIT); processes: counted in the child, summed over all processes.`,
    `ratio: "throughput" = ours / baseline operations per second (higher is better); "time" = ours / baseline duration (lower is better).`,
  ];
  const table = markdown(rows);
  process.stdout.write(`${table}\n\n${notes.map((note) => `- ${note}`).join('\n')}\n`);
  if (argv.includes('--json')) {
    const path = join(ROOT, 'bench', 'results.json');
    await writeFile(path, `${json(rows, { machine, date: new Date().toISOString(), seconds, config, notes })}\n`);
    log(`wrote ${path}`);
  }
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  console.error(error);
} finally {
  await cleanupAll();
}
