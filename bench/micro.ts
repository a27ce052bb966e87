// Not part of `npm run bench`: per-call costs along the SQLite path, for profiling the helpers' overhead
// (`node bench/micro.js`, or `node --cpu-prof --cpu-prof-dir=/tmp/prof bench/micro.js`).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { DatabaseManager, Session, getByPk, getOrCreate, sql, table } from '../lib/index.js';
import type { SqliteDriver } from '../lib/driver/sqlite.js';
import { cleanupAll, tempFolder } from './databases.js';

const N = Number(process.env.MICRO_N ?? 200_000);

async function time(label: string, fn: (i: number) => unknown): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  console.log(`${label.padEnd(48)} ${(((performance.now() - started) * 1000) / N).toFixed(2)} µs/call`);
}

try {
  const dir = await tempFolder();
  const file = join(dir, 'micro.db');
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE bench_items (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value TEXT)');
  const insert = raw.prepare('INSERT INTO bench_items (key, value) VALUES (?, ?)');
  raw.transaction(() => {
    for (let i = 1; i <= 1000; i++) insert.run(`k${i}`, 'v');
  })();
  const db = new DatabaseManager(`sqlite://${file}`, dir);
  const items = table<{ id: number; key: string; value: string }>('bench_items', { primaryKey: 'id' });
  const key = (i: number) => `k${(i % 1000) + 1}`;
  const get = raw.prepare('SELECT * FROM bench_items WHERE key = ?');
  await time('raw .get() (sync loop, awaited)', (i) => get.get(key(i)));
  await time('raw .all() (sync loop, awaited)', (i) => get.all(key(i)));
  // The driver's synchronous run(), under the async seam: the floor for any path through the driver.
  const driver = Session.driverOf(db) as SqliteDriver;
  const prebuilt = sql`SELECT * FROM bench_items WHERE key = ${'k1'} LIMIT 2`;
  await time('driver.run(same Sql object)', () => driver.run(prebuilt));
  await time('driver.run(sql`…` built per call)', (i) => driver.run(sql`SELECT * FROM bench_items WHERE key = ${key(i)} LIMIT 2`));
  await time('build sql`…` only', (i) => sql`SELECT * FROM bench_items WHERE key = ${key(i)} LIMIT 2`);
  await time('db.query(sql`…`)', (i) => db.query(sql`SELECT * FROM bench_items WHERE key = ${key(i)} LIMIT 2`));
  await time('getByPk', (i) => getByPk((i % 1000) + 1, { session: db, model: items }));
  await time('getOrCreate, key exists', (i) => getOrCreate(db, items, { key: key(i) }));
  await db.close();
  raw.close();
} finally {
  await cleanupAll();
}
