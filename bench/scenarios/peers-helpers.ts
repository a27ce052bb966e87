// getOrCreate (key exists, key new) and getOne against Kysely, Drizzle and knex doing the same the way their
// documentation shows (bench/peer-orms.ts): on PostgreSQL 16 callers over an 8-connection pool on every side,
// on SQLite one caller after the other on one better-sqlite3 connection. All sides interleave in one process.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DatabaseManager, getOne, getOrCreate, table } from '../../lib/index.js';
import type { Config } from '../config.js';
import { dropPgDatabase, freshPgDatabase, removeFolder, tempFolder } from '../databases.js';
import { concurrently, interleave, sequentially, type Side } from '../harness.js';
import { PEERS, type Item, type Peer } from '../peer-orms.js';
import { row, type Row } from '../report.js';

const ROWS = 1000;
const CALLERS = 16;
const POOL_MAX = 8;

const key = (i: number) => `k${(i % ROWS) + 1}`;

interface Setup {
  dialect: Row['dialect'];
  db: DatabaseManager;
  peers: Peer[];
  /** Runs `op(i)` `calls` times as the dialect's callers do. */
  drive: (calls: number, op: (i: number) => Promise<unknown>) => Promise<number>;
  calls: number;
}

async function compare(config: Config, setup: Setup): Promise<Row[]> {
  const { db, peers, drive, calls, dialect } = setup;
  const items = table<Item>('bench_items', { primaryKey: 'id' });
  const rounds = config.peerRounds;
  // One-time work (pool connections, the flag-column lookup) before the counted warm-up round.
  await drive(CALLERS * 8, (i) => Promise.all([getOrCreate(db, items, { key: key(i) }), ...peers.map((peer) => peer.getOrCreate(key(i), 'x'))]));
  let fresh = 0;
  const operations: Array<{ measure: string; ours: (i: number) => Promise<unknown>; theirs: (peer: Peer) => (i: number) => Promise<unknown> }> = [
    {
      measure: 'getOrCreate, key exists',
      ours: (i) => getOrCreate(db, items, { key: key(i) }, { defaults: { value: 'x' } }),
      theirs: (peer) => (i) => peer.getOrCreate(key(i), 'x'),
    },
    {
      measure: 'getOrCreate, key new',
      ours: () => getOrCreate(db, items, { key: `new-ours-${fresh++}` }, { defaults: { value: 'x' } }),
      theirs: (peer) => () => peer.getOrCreate(`new-${peer.name}-${fresh++}`, 'x'),
    },
    { measure: 'getOne', ours: (i) => getOne(db, items, { key: key(i) }), theirs: (peer) => (i) => peer.getOne(key(i)) },
  ];
  const rows: Row[] = [];
  for (const operation of operations) {
    const sides: Side[] = [
      { name: 'sql-helpers', run: () => drive(calls, operation.ours) },
      ...peers.map((peer) => ({ name: peer.name, run: () => drive(calls, operation.theirs(peer)) })),
    ];
    const [ours, ...theirs] = await interleave(sides, { rounds });
    for (const peer of theirs) {
      rows.push(
        row(
          { measure: `${operation.measure}, vs the peer's documented pattern`, dialect, kind: 'throughput', target: '≥ 1.0×', check: (ratio) => ratio >= 1, rounds },
          ours!,
          peer,
        ),
      );
    }
  }
  return rows;
}

export async function peersPg(config: Config): Promise<Row[]> {
  const database = await freshPgDatabase('peers');
  const empty = await tempFolder();
  const setupPool = new pg.Pool({ connectionString: database.url, max: 1 });
  await setupPool.query('CREATE TABLE bench_items (id serial PRIMARY KEY, key text NOT NULL UNIQUE, value text)');
  await setupPool.query(`INSERT INTO bench_items (key, value) SELECT 'k' || g, 'v' || g FROM generate_series(1, ${ROWS}) g`);
  await setupPool.query('ANALYZE bench_items');
  await setupPool.end();
  const db = new DatabaseManager(database.url, empty, { engineArgs: { max: POOL_MAX } });
  const peers = PEERS.map((make) => make({ dialect: 'postgres', url: database.url, max: POOL_MAX }));
  try {
    return await compare(config, {
      dialect: 'PostgreSQL',
      db,
      peers,
      drive: (calls, op) => concurrently(CALLERS, calls, op),
      calls: config.peerPgCalls,
    });
  } finally {
    await Promise.all([db.close(), ...peers.map((peer) => peer.close())]);
    await dropPgDatabase(database.name);
    await removeFolder(empty);
  }
}

export async function peersSqlite(config: Config): Promise<Row[]> {
  const dir = await tempFolder();
  const file = join(dir, 'peers.db');
  const setup = new Database(file);
  setup.pragma('journal_mode = WAL');
  setup.exec('CREATE TABLE bench_items (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value TEXT)');
  const insert = setup.prepare('INSERT INTO bench_items (key, value) VALUES (?, ?)');
  setup.transaction(() => {
    for (let i = 1; i <= ROWS; i++) insert.run(`k${i}`, `v${i}`);
  })();
  setup.close();
  const db = new DatabaseManager(`sqlite://${file}`, dir);
  const peers = PEERS.map((make) => make({ dialect: 'sqlite', file }));
  try {
    return await compare(config, { dialect: 'SQLite', db, peers, drive: (calls, op) => sequentially(calls, op), calls: config.peerSqliteCalls });
  } finally {
    await Promise.all([db.close(), ...peers.map((peer) => peer.close())]);
    await removeFolder(dir);
  }
}
