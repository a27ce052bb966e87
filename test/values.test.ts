import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';

// A zone far from UTC (+13:45): timestamps must not depend on the machine's time zone.
process.env.TZ = 'Pacific/Chatham';

import {
  ConfigurationError,
  DatabaseManager,
  UnsafeIntegerError,
  getByPk,
  getOrCreate,
  sql,
  table,
  type Dialect,
} from '../lib/index.js';
import { dialects, fixtureMigrations, migratedDatabase, type TestDatabase } from './support.js';

// One schema, written for both (test/fixtures/migrations/values): only the key column and the JSON/binary type names differ.
const MIGRATIONS = fixtureMigrations('values');

interface Sample {
  id: number;
  label: string;
  small: number | null;
  big: number | null;
  flag: boolean | null;
  happened_at: Date | null;
  local_at: Date | null;
  day: Date | null;
  doc: unknown;
  raw: Buffer | null;
  ratio: number | null;
  price: unknown;
  created_at: Date;
}
const samples = table<Sample>('samples', { primaryKey: 'id' });

// The comparison needs both databases in every pass, also where the runner narrows `dialects` to PostgreSQL.
const BOTH: Dialect[] = ['sqlite', 'postgres'];

const BELOW = Number.MAX_SAFE_INTEGER; // 2^53 − 1: the largest integer a number holds exactly
const instant = new Date('2026-11-30T12:25:34.123Z');

// The same inserts on both databases, with values as an application passes them.
const inserts = [
  { label: 'all', small: 42, big: BELOW, flag: true, happened_at: instant, local_at: instant, day: '2026-11-30', doc: { a: 1, b: [true, null], c: 'é' }, raw: Buffer.from([0, 1, 2, 255]), ratio: 0.5 },
  { label: 'negatives', small: -7, big: -BELOW, flag: false, happened_at: '2026-11-30T23:30:00+02:00', local_at: '2026-01-02 03:04:05.678', day: new Date('2026-02-28T00:00:00Z'), doc: JSON.stringify([1, 'two']), raw: Buffer.alloc(0), ratio: -1.25 },
  { label: 'scalars', small: 0, big: 0, flag: null, happened_at: null, local_at: null, day: null, doc: JSON.stringify('text'), raw: null, ratio: null },
  { label: 'nulls', small: null, big: null, flag: null, happened_at: null, local_at: null, day: null, doc: null, raw: null, ratio: null },
];

// What both databases must return for those rows (created_at and price are checked on their own).
const expected = [
  { id: 1, label: 'all', small: 42, big: BELOW, flag: true, happened_at: instant, local_at: instant, day: new Date('2026-11-30T00:00:00Z'), doc: { a: 1, b: [true, null], c: 'é' }, raw: Buffer.from([0, 1, 2, 255]), ratio: 0.5 },
  { id: 2, label: 'negatives', small: -7, big: -BELOW, flag: false, happened_at: new Date('2026-11-30T21:30:00Z'), local_at: new Date('2026-01-02T03:04:05.678Z'), day: new Date('2026-02-28T00:00:00Z'), doc: [1, 'two'], raw: Buffer.alloc(0), ratio: -1.25 },
  { id: 3, label: 'scalars', small: 0, big: 0, flag: null, happened_at: null, local_at: null, day: null, doc: 'text', raw: null, ratio: null },
  { id: 4, label: 'nulls', small: null, big: null, flag: null, happened_at: null, local_at: null, day: null, doc: null, raw: null, ratio: null },
];

interface Opened {
  db: DatabaseManager;
  target: TestDatabase;
}

async function open(dialect: Dialect, options: { typeParsing?: boolean } = {}): Promise<Opened> {
  const target = await migratedDatabase(dialect, MIGRATIONS);
  const db = new DatabaseManager(target.uri, MIGRATIONS, { ...target.options, ...options });
  return { db, target };
}

async function close({ db, target }: Opened): Promise<void> {
  await db.close();
  await target.cleanup();
}

async function insertAll(db: DatabaseManager): Promise<void> {
  for (const row of inserts) {
    await db.execute(sql`INSERT INTO samples (label, small, big, flag, happened_at, local_at, day, doc, raw, ratio, price)
      VALUES (${row.label}, ${row.small}, ${row.big}, ${row.flag}, ${row.happened_at}, ${row.local_at}, ${row.day}, ${row.doc}, ${row.raw}, ${row.ratio}, ${'12.50'})`);
  }
}

// The columns compared value for value; created_at (the database's clock) and price (documented) apart.
const compared = (row: Sample) => {
  const { created_at: _created, price: _price, ...rest } = row;
  return rest;
};

describe('the same JS values from SQLite and PostgreSQL', () => {
  const opened = new Map<Dialect, Opened>();
  before(async () => {
    for (const dialect of BOTH) {
      const handle = await open(dialect);
      opened.set(dialect, handle);
      await insertAll(handle.db);
    }
  });
  after(async () => {
    for (const handle of opened.values()) await close(handle);
  });

  it('returns every row deep-equal, type by type, on both databases', async () => {
    const read = new Map<Dialect, Sample[]>();
    for (const [dialect, { db }] of opened) read.set(dialect, await db.query<Sample>(sql`SELECT * FROM samples ORDER BY id`));
    const sqliteRows = read.get('sqlite')!;
    const pgRows = read.get('postgres')!;
    for (const [dialect, rows] of read) {
      assert.deepStrictEqual(rows.map(compared), expected, `${dialect} rows`);
      for (const row of rows) {
        assert.ok(row.created_at instanceof Date, `${dialect}: created_at is a Date`);
        assert.ok(Math.abs(row.created_at.getTime() - Date.now()) < 60_000, `${dialect}: created_at ${row.created_at.toISOString()} is now (UTC)`);
      }
    }
    // Column by column across the two databases, so a difference names its column.
    for (const [index, sqliteRow] of sqliteRows.entries()) {
      const pgRow = pgRows[index]!;
      for (const column of Object.keys(compared(sqliteRow)) as (keyof Sample)[]) {
        assert.deepStrictEqual(sqliteRow[column], pgRow[column], `row ${index + 1}, column ${column}`);
      }
      assert.deepStrictEqual(Object.keys(sqliteRow).sort(), Object.keys(pgRow).sort());
    }
  });

  it('reads count(*), aggregates and RETURNING as numbers on both', async () => {
    for (const [dialect, { db }] of opened) {
      const counts = await db.one<{ n: number; biggest: number; flags: number }>(
        sql`SELECT count(*) AS n, max(big) AS biggest, count(flag) AS flags FROM samples`,
      );
      assert.deepStrictEqual(counts, { n: 4, biggest: BELOW, flags: 2 }, dialect);
      const [row, created] = await getOrCreate(db, samples, { label: 'via helper' }, { defaults: { big: 5, flag: true, day: new Date('2026-11-30T00:00:00Z') } });
      assert.equal(created, true);
      assert.deepStrictEqual(
        { id: row.id, big: row.big, flag: row.flag, day: row.day },
        { id: 5, big: 5, flag: true, day: new Date('2026-11-30T00:00:00Z') },
        dialect,
      );
      assert.deepStrictEqual(await getByPk(5, { session: db, model: samples }), row, dialect);
    }
  });

  it('refuses integers just above 2^53 with UnsafeIntegerError on both, and reads them as text', async () => {
    for (const [dialect, { db }] of opened) {
      for (const [label, big] of [
        ['at 2^53', 2n ** 53n],
        ['above 2^53', 2n ** 53n + 1n],
        ['below -2^53', -(2n ** 53n) - 1n],
      ] as const) {
        await db.execute(sql`INSERT INTO samples (label, big) VALUES (${label}, ${big})`);
        await assert.rejects(
          db.one(sql`SELECT big FROM samples WHERE label = ${label}`),
          (error: unknown) => {
            assert.ok(error instanceof UnsafeIntegerError, `${dialect} ${label}: ${String(error)}`);
            assert.equal(error.code, 'UNSAFE_INTEGER');
            assert.equal(error.value, String(big));
            assert.match(error.message, /CAST\(… AS TEXT\)/);
            return true;
          },
        );
        const { big: text } = await db.one<{ big: string }>(sql`SELECT CAST(big AS TEXT) AS big FROM samples WHERE label = ${label}`);
        assert.equal(text, String(big), `${dialect} ${label} as text`);
        await db.execute(sql`DELETE FROM samples WHERE label = ${label}`);
      }
      // The session is still usable after the refusal.
      assert.equal((await db.one<{ n: number }>(sql`SELECT count(*) AS n FROM samples WHERE big = ${BELOW}`)).n, 1);
    }
  });

  it('documents NUMERIC: exact text on PostgreSQL, a number on SQLite', async () => {
    const price = async (dialect: Dialect) =>
      (await opened.get(dialect)!.db.one<{ price: unknown }>(sql`SELECT price FROM samples WHERE label = ${'all'}`)).price;
    assert.equal(await price('postgres'), '12.50');
    assert.equal(await price('sqlite'), 12.5);
  });
});

describe('typeParsing: false returns the drivers’ own values', () => {
  for (const dialect of dialects) {
    it(`on ${dialect}`, async () => {
      const handle = await open(dialect, { typeParsing: false });
      try {
        await insertAll(handle.db);
        const row = await handle.db.one<Record<string, unknown>>(sql`SELECT id, flag, doc, local_at, (SELECT count(*) FROM samples) AS n FROM samples WHERE label = ${'all'}`);
        if (dialect === 'postgres') {
          // pg: int8 as text.
          assert.deepStrictEqual([row.id, row.n, row.flag], ['1', '4', true]);
        } else {
          assert.deepStrictEqual([row.id, row.n, row.flag, row.doc], [1, 4, 1, JSON.stringify(inserts[0]!.doc)]);
          assert.equal(row.local_at, instant.toISOString());
        }
      } finally {
        await close(handle);
      }
    });
  }

  it('leaves the process-wide pg.types alone', async () => {
    const handle = await open('postgres');
    try {
      assert.equal((await handle.db.one<{ n: unknown }>(sql`SELECT count(*) AS n FROM samples`)).n, 0);
      assert.equal(pg.types.getTypeParser(20, 'text')('5'), '5');
    } finally {
      await close(handle);
    }
  });

  it('rejects a typeParsing that is not a boolean', () => {
    assert.throws(
      () => new DatabaseManager('sqlite::memory:', '.', { typeParsing: 'no' as unknown as boolean }),
      (error: unknown) => error instanceof ConfigurationError && error.code === 'INVALID_OPTION' && /option typeParsing must be true or false, got the string "no"/.test(error.message),
    );
  });
});
