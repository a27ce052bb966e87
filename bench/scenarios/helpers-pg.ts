// getOrCreate / getOne / getByPk on PostgreSQL: 16 concurrent callers on an 8-connection pool, against the
// raw pg query a hand-written service would send through a pool of the same size; directly, or with both
// sides through a PgBouncer in transaction mode (where every statement runs unnamed, on both sides).
import pg from 'pg';
import { DatabaseManager, getByPk, getOne, getOrCreate, table } from '../../lib/index.js';
import type { Config } from '../config.js';
import { dropPgDatabase, freshPgDatabase, removeFolder, tempFolder } from '../databases.js';
import { concurrently, interleave } from '../harness.js';
import { row, type Row } from '../report.js';
import type { Pooler } from '../../test/topology/pgbouncer.js';

const CALLERS = 16;
const POOL = { max: 8 };
const ROWS = 1000;

interface Item {
  id: number;
  key: string;
  value: string | null;
}

export async function helpersPg(config: Config, pooler?: Pooler): Promise<Row[]> {
  const database = await freshPgDatabase('helpers');
  const url = pooler ? pooler.url(database.name) : database.url;
  const dialect = pooler ? 'PostgreSQL via PgBouncer' : 'PostgreSQL';
  const empty = await tempFolder();
  const db = new DatabaseManager(url, empty, { engineArgs: POOL });
  const pool = new pg.Pool({ connectionString: url, ...POOL });
  pool.on('error', () => undefined);
  try {
    await pool.query('CREATE TABLE bench_items (id serial PRIMARY KEY, key text NOT NULL UNIQUE, value text)');
    await pool.query(`INSERT INTO bench_items (key, value) SELECT 'k' || g, 'v' || g FROM generate_series(1, ${ROWS}) g`);
    await pool.query('ANALYZE bench_items');
    const items = table<Item>('bench_items', { primaryKey: 'id' });
    const key = (i: number) => `k${(i % ROWS) + 1}`;
    const id = (i: number) => (i % ROWS) + 1;
    const calls = config.pgCalls;
    const rounds = config.helperRounds;
    const rows: Row[] = [];
    let fresh = 0;

    const pair = async (
      spec: Parameters<typeof row>[0],
      ours: (i: number) => Promise<unknown>,
      raw: (i: number) => Promise<unknown>,
      rawName: string,
    ) => {
      const [a, b] = await interleave(
        [
          { name: 'sql-helpers', run: () => concurrently(CALLERS, calls, ours) },
          { name: rawName, run: () => concurrently(CALLERS, calls, raw) },
        ],
        { rounds },
      );
      rows.push(row(spec, a!, b!));
    };

    // One-time work happens here, not in the counted warm-up round: every pool connection opened (sql-helpers reads
    // each new connection's profile once), and getOrCreate's lookup of a flag column name the table does not use
    // (one query per model and process).
    await concurrently(CALLERS, CALLERS * 8, (i) => Promise.all([getOrCreate(db, items, { key: key(i) }), pool.query('SELECT 1')]));
    const exists = (trips: number) => (ratio: number, ours: { roundTrips: number | undefined }) => ratio >= 0.95 && ours.roundTrips === trips;
    await pair(
      { measure: 'getOrCreate, key exists, 16 callers / 8 connections', dialect, kind: 'throughput', target: '≥ 0.95×, 1 round trip', check: exists(1), rounds },
      (i) => getOrCreate(db, items, { key: key(i) }),
      (i) => pool.query('SELECT * FROM bench_items WHERE key = $1', [key(i)]),
      'raw pg SELECT',
    );
    await pair(
      {
        measure: 'getOrCreate, key new, 16 callers / 8 connections',
        dialect,
        kind: 'throughput',
        // Through the pooler statements are not prepared, and the one-statement form would be planned on every
        // call (three times the server time of a SELECT): there getOrCreate selects first, then inserts.
        target: pooler ? '≥ 0.90×, 2 round trips (unprepared)' : '≥ 0.90×, 1 round trip',
        check: (ratio, ours) => ratio >= 0.9 && ours.roundTrips === (pooler ? 2 : 1),
        rounds,
      },
      () => getOrCreate(db, items, { key: `new-a-${fresh++}` }, { defaults: { value: 'x' } }),
      () => pool.query('INSERT INTO bench_items (key, value) VALUES ($1, $2) RETURNING *', [`new-b-${fresh++}`, 'x']),
      'raw INSERT … RETURNING',
    );
    await pair(
      { measure: 'getOne', dialect, kind: 'throughput', target: '≥ 0.95×', check: (ratio) => ratio >= 0.95, rounds },
      (i) => getOne(db, items, { key: key(i) }),
      (i) => pool.query('SELECT * FROM bench_items WHERE key = $1', [key(i)]),
      'raw pg SELECT',
    );
    await pair(
      { measure: 'getByPk', dialect, kind: 'throughput', target: '≥ 0.95×', check: (ratio) => ratio >= 0.95, rounds },
      (i) => getByPk(id(i), { session: db, model: items }),
      (i) => pool.query('SELECT * FROM bench_items WHERE id = $1', [id(i)]),
      'raw pg SELECT',
    );
    return rows;
  } finally {
    await db.close();
    await pool.end();
    await dropPgDatabase(database.name);
    await removeFolder(empty);
  }
}
