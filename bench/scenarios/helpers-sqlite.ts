// getOrCreate / getOne / getByPk on a SQLite file (WAL), one caller after the other, against a raw
// prepared better-sqlite3 `.get()` in a plain synchronous loop: what a hand-written service would do.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseManager, getByPk, getOne, getOrCreate, table } from '../../lib/index.js';
import type { Config } from '../config.js';
import { removeFolder, tempFolder } from '../databases.js';
import { interleave, sequentially } from '../harness.js';
import { row, type Row } from '../report.js';

const ROWS = 1000;

interface Item {
  id: number;
  key: string;
  value: string | null;
}

export async function helpersSqlite(config: Config): Promise<Row[]> {
  const dir = await tempFolder();
  const file = join(dir, 'helpers.db');
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE bench_items (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value TEXT)');
  const insert = raw.prepare('INSERT INTO bench_items (key, value) VALUES (?, ?)');
  raw.transaction(() => {
    for (let i = 1; i <= ROWS; i++) insert.run(`k${i}`, `v${i}`);
  })();
  const db = new DatabaseManager(`sqlite://${file}`, dir);
  try {
    const items = table<Item>('bench_items', { primaryKey: 'id' });
    const key = (i: number) => `k${(i % ROWS) + 1}`;
    const id = (i: number) => (i % ROWS) + 1;
    const byKey = raw.prepare('SELECT * FROM bench_items WHERE key = ?');
    const byId = raw.prepare('SELECT * FROM bench_items WHERE id = ?');
    const calls = config.sqliteCalls;
    const rounds = config.helperRounds;
    const rows: Row[] = [];
    const rawLoop = (statement: Database.Statement, arg: (i: number) => unknown) => async () => {
      for (let i = 0; i < calls; i++) statement.get(arg(i));
      return calls;
    };
    const pair = async (spec: Parameters<typeof row>[0], ours: (i: number) => Promise<unknown>, rawRun: () => Promise<number>) => {
      const [a, b] = await interleave(
        [
          { name: 'sql-helpers', run: () => sequentially(calls, ours) },
          { name: 'raw better-sqlite3 .get()', run: rawRun },
        ],
        { rounds },
      );
      rows.push(row(spec, a!, b!));
    };
    const target = { kind: 'throughput' as const, target: '≥ 0.80×', check: (ratio: number) => ratio >= 0.8, rounds, dialect: 'SQLite' as const };
    await pair({ measure: 'getOrCreate, key exists', ...target }, (i) => getOrCreate(db, items, { key: key(i) }), rawLoop(byKey, key));
    await pair({ measure: 'getOne', ...target }, (i) => getOne(db, items, { key: key(i) }), rawLoop(byKey, key));
    await pair({ measure: 'getByPk', ...target }, (i) => getByPk(id(i), { session: db, model: items }), rawLoop(byId, id));
    // What any async API costs over a synchronous loop: an async function around the same prepared statement
    // (with .all(), as a helper needs it to tell one row from several), and nothing else.
    const byKeyAll = raw.prepare('SELECT * FROM bench_items WHERE key = ? LIMIT 2');
    const asyncFloor = async (i: number) => byKeyAll.all(key(i));
    await pair(
      { measure: 'reference: the async floor (an async function around a prepared .all(), no library)', kind: 'throughput', target: '— (reference)', rounds, dialect: 'SQLite' },
      asyncFloor,
      rawLoop(byKey, key),
    );
    return rows;
  } finally {
    await db.close();
    raw.close();
    await removeFolder(dir);
  }
}
