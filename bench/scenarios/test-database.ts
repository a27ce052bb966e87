// Time to a fresh, fully migrated database per call: createTestDatabase (a clone of the template, built once
// in the warm-up rounds) against what a test does without it (a new empty database, then sync()). Each timed
// run is the call plus a user's first query on the result (connecting, and SQLite parsing the schema, happen
// there); the call alone, minima and drop() times go into the notes. For the example sql/ and the generated
// history, on PostgreSQL (a spare made ahead; a clone per call, both strategies) and SQLite (file, :memory:).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseManager, identifier, sql } from '../../lib/index.js';
import { cleanupTestDatabases, createTestDatabase, type TestDatabase, type TestDatabaseOptions } from '../../lib/testing/index.js';
import { templateName } from '../../lib/testing/postgres-templates.js';
import { templateKey } from '../../lib/testing/template-key.js';
import type { Config } from '../config.js';
import { PG_URL, admin, dropPgDatabase, freshPgDatabase } from '../databases.js';
import type { Fixtures } from '../fixtures.js';
import { interleave, median, type Side, type SideResult } from '../harness.js';
import { ROOT } from '../processes.js';
import { removeDatabaseFile } from '../../lib/testing/sqlite-cleanup.js';
import { row, type Row } from '../report.js';

const EXAMPLE_DIR = join(ROOT, 'sql');
// Two untimed rounds: the first builds the template, the second is a process's second call (which starts the
// first spare); from then on every call is what a test suite's third and later calls see.
const WARMUP = 2;

async function expectHead(db: DatabaseManager, head: number): Promise<void> {
  const current = await db.getCurrentRevision();
  if (current !== head) throw new Error(`expected version ${head}, got ${current}`);
}

/** What a test does first with its database: read one of the tables the migrations made. */
const firstQuery = (db: DatabaseManager, table: string) => db.query(sql`SELECT count(*) AS n FROM ${identifier(table)}`);

/** Per side, besides the harness's samples: the call alone, and drop() (untimed by the harness). */
interface Extra {
  callMs: number[];
  dropMs: number[];
}

/** Ours: one createTestDatabase call and a first query on the result (so both sides end connected). */
function cloneSide(name: string, uri: string, dir: string, head: number, table: string, options: TestDatabaseOptions, extra: Extra): Side {
  let made: TestDatabase | undefined;
  let round = 0;
  return {
    name,
    async run() {
      const started = performance.now();
      made = await createTestDatabase(uri, dir, options);
      if (round++ >= WARMUP) extra.callMs.push(performance.now() - started);
      await firstQuery(made.db, table);
    },
    async cleanup() {
      await expectHead(made!.db, head);
      const started = performance.now();
      await made!.drop();
      if (round > WARMUP) extra.dropMs.push(performance.now() - started);
    },
  };
}

/** Theirs: a new empty database (timed too: a clone includes its CREATE DATABASE), then sync() and the same first query. */
function syncSide(name: string, dialect: 'pg' | 'file' | 'memory', dir: string, head: number, table: string, root: string): Side {
  let db: DatabaseManager | undefined;
  let remove = async () => {};
  let files = 0;
  return {
    name,
    async run() {
      let uri = 'sqlite::memory:';
      if (dialect === 'pg') {
        const fresh = await freshPgDatabase('sync');
        uri = fresh.url;
        remove = () => dropPgDatabase(fresh.name);
      } else if (dialect === 'file') {
        const file = join(root, `sync-${files++}.db`);
        uri = `sqlite://${file}`;
        remove = () => removeDatabaseFile(file);
      }
      db = new DatabaseManager(uri, dir);
      await db.sync();
      await firstQuery(db, table);
    },
    async cleanup() {
      await expectHead(db!, head);
      await db!.close();
      await remove();
    },
  };
}

async function dropTemplate(dir: string): Promise<void> {
  const name = templateName(await templateKey('postgres', dir, { versionTable: undefined, schema: undefined }));
  await admin(`ALTER DATABASE "${name}" WITH IS_TEMPLATE false`).catch(() => undefined);
  await admin(`DROP DATABASE IF EXISTS "${name}"`);
}

const ms = (value: number) => (value >= 100 ? `${Math.round(value)}` : value.toFixed(1));
const min = (values: number[]) => Math.min(...values);

/** The note of a row: which variant, and the figures the table has no column for. */
function note(variant: string, ours: SideResult, extra: Extra): string {
  return (
    `${variant}; min ${ms(min(ours.samples))} ms; the call alone: median ${ms(median(extra.callMs))} ms, min ${ms(min(extra.callMs))} ms; ` +
    `drop() median ${ms(median(extra.dropMs))} ms`
  );
}

const extra = (): Extra => ({ callMs: [], dropMs: [] });

export async function testDatabase(config: Config, fixtures: Fixtures): Promise<Row[]> {
  const rounds = config.cloneRounds;
  const rows: Row[] = [];
  const histories = [
    { label: 'example sql/ (3 files)', dir: EXAMPLE_DIR, head: 3, table: 'users' },
    { label: `${config.migrations} generated files`, dir: fixtures.helpersDir, head: config.migrations, table: 'bench_t1' },
  ];
  const sqliteBase = `sqlite://${join(fixtures.root, 'tests.db')}`;
  const sqliteOnce = `sqlite://${join(fixtures.root, 'once.db')}`;
  const templateDir = join(fixtures.root, 'memory-templates');
  try {
    for (const { label, dir, head, table } of histories) {
      const big = head > 3;
      const measure = `fresh migrated database per call + first query, ${label}`;
      const [spare, perCall, fileCopy] = [extra(), extra(), extra()];
      const [spareSide, perCallSide, fileCopySide, syncSide_] = await interleave(
        [
          cloneSide('createTestDatabase (WAL_LOG, spare)', PG_URL, dir, head, table, { strategy: 'WAL_LOG' }, spare),
          cloneSide('createTestDatabase (WAL_LOG, spares: 0)', PG_URL, dir, head, table, { strategy: 'WAL_LOG', spares: 0 }, perCall),
          cloneSide('createTestDatabase (FILE_COPY, spares: 0)', PG_URL, dir, head, table, { strategy: 'FILE_COPY', spares: 0 }, fileCopy),
          syncSide('CREATE DATABASE + sync()', 'pg', dir, head, table, fixtures.root),
        ],
        { rounds, warmup: WARMUP },
      );
      const pgTarget = big ? '≤ 100 ms and ≤ 0.05× (20× faster)' : '≤ 100 ms';
      const pgCheck = (ratio: number, ours: { medianMs: number }) => ours.medianMs <= 100 && (!big || ratio <= 0.05);
      rows.push(
        row({ measure, dialect: 'PostgreSQL', kind: 'time', target: pgTarget, check: pgCheck, rounds, note: note('spare made ahead (default)', spareSide!, spare) }, spareSide!, syncSide_!),
        row({ measure, dialect: 'PostgreSQL', kind: 'time', target: '— (the clone inside the call)', rounds, note: note('WAL_LOG, spares: 0', perCallSide!, perCall) }, perCallSide!, syncSide_!),
        row({ measure, dialect: 'PostgreSQL', kind: 'time', target: '— (picks the default strategy)', rounds, note: note('WAL_LOG vs FILE_COPY, spares: 0', perCallSide!, perCall) }, perCallSide!, fileCopySide!),
      );
      const [file, fileOnce, memory] = [extra(), extra(), extra()];
      const [fileSide, fileOnceSide, fileSync] = await interleave(
        [
          cloneSide('createTestDatabase (file, spare)', sqliteBase, dir, head, table, {}, file),
          cloneSide('createTestDatabase (file, spares: 0)', sqliteOnce, dir, head, table, { spares: 0 }, fileOnce),
          syncSide('new file + sync()', 'file', dir, head, table, fixtures.root),
        ],
        { rounds, warmup: WARMUP },
      );
      const [memorySide, memorySync] = await interleave(
        [
          cloneSide('createTestDatabase (:memory: image)', 'sqlite::memory:', dir, head, table, { templateDir }, memory),
          syncSide(':memory: + sync()', 'memory', dir, head, table, fixtures.root),
        ],
        { rounds, warmup: WARMUP },
      );
      rows.push(
        row({ measure, dialect: 'SQLite', kind: 'time', target: '≤ 5 ms', check: (_, ours) => ours.medianMs <= 5, rounds, note: note('file, spare made ahead (default)', fileSide!, file) }, fileSide!, fileSync!),
        row({ measure, dialect: 'SQLite', kind: 'time', target: '— (the copy inside the call)', rounds, note: note('file, spares: 0', fileOnceSide!, fileOnce) }, fileOnceSide!, fileSync!),
        row({ measure, dialect: 'SQLite', kind: 'time', target: '≤ 2 ms', check: (_, ours) => ours.medianMs <= 2, rounds, note: note(':memory:', memorySide!, memory) }, memorySide!, memorySync!),
      );
    }
  } finally {
    // The spares made ahead, then the templates.
    for (const uri of [PG_URL, sqliteBase]) await cleanupTestDatabases(uri);
    for (const { dir } of histories) await dropTemplate(dir);
  }
  return rows;
}
