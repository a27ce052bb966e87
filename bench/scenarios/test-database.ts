// Time to a fresh, fully migrated database per call: createTestDatabase (a clone of the template, built once
// in the warm-up round) against what a test does without it (a new empty database, then sync()). For the
// example sql/ and the generated history, on PostgreSQL (both clone strategies) and SQLite (file, :memory:).
import { join } from 'node:path';
import { DatabaseManager } from '../../lib/index.js';
import { createTestDatabase, type CloneStrategy, type TestDatabase } from '../../lib/testing/index.js';
import { templateName } from '../../lib/testing/postgres-templates.js';
import { templateKey } from '../../lib/testing/template-key.js';
import type { Config } from '../config.js';
import { PG_URL, admin, dropPgDatabase, freshPgDatabase } from '../databases.js';
import type { Fixtures } from '../fixtures.js';
import { interleave, type Side } from '../harness.js';
import { ROOT } from '../processes.js';
import { removeDatabaseFile } from '../../lib/testing/sqlite-cleanup.js';
import { row, type Row } from '../report.js';

const EXAMPLE_DIR = join(ROOT, 'sql');

async function expectHead(db: DatabaseManager, head: number): Promise<void> {
  const current = await db.getCurrentRevision();
  if (current !== head) throw new Error(`expected version ${head}, got ${current}`);
}

/** Ours: one createTestDatabase call and a first query on the result (so both sides end connected). */
function cloneSide(name: string, uri: string, dir: string, head: number, options: { strategy?: CloneStrategy; templateDir?: string } = {}): Side {
  let made: TestDatabase | undefined;
  return {
    name,
    async run() {
      made = await createTestDatabase(uri, dir, options);
      await expectHead(made.db, head);
    },
    cleanup: () => made!.drop(),
  };
}

/** Theirs: a new empty database (timed too: a clone includes its CREATE DATABASE), then sync(). */
function syncSide(name: string, dialect: 'pg' | 'file' | 'memory', dir: string, head: number, root: string): Side {
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
      await expectHead(db, head);
    },
    async cleanup() {
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

export async function testDatabase(config: Config, fixtures: Fixtures): Promise<Row[]> {
  const rounds = config.cloneRounds;
  const rows: Row[] = [];
  const histories = [
    { label: 'example sql/ (3 files)', dir: EXAMPLE_DIR, head: 3 },
    { label: `${config.migrations} generated files`, dir: fixtures.helpersDir, head: config.migrations },
  ];
  const sqliteBase = `sqlite://${join(fixtures.root, 'tests.db')}`;
  const templateDir = join(fixtures.root, 'memory-templates');
  try {
    for (const { label, dir, head } of histories) {
      const big = head > 3;
      const measure = `fresh migrated database per call, ${label}`;
      const [walLog, fileCopy, sync] = await interleave(
        [
          cloneSide('createTestDatabase (WAL_LOG)', PG_URL, dir, head, { strategy: 'WAL_LOG' }),
          cloneSide('createTestDatabase (FILE_COPY)', PG_URL, dir, head, { strategy: 'FILE_COPY' }),
          syncSide('CREATE DATABASE + sync()', 'pg', dir, head, fixtures.root),
        ],
        { rounds },
      );
      const pgTarget = big ? '≤ 100 ms and ≤ 0.05× (20× faster)' : '≤ 100 ms';
      const pgCheck = (ratio: number, ours: { medianMs: number }) => ours.medianMs <= 100 && (!big || ratio <= 0.05);
      rows.push(
        row({ measure, dialect: 'PostgreSQL', kind: 'time', target: pgTarget, check: pgCheck, rounds, note: 'WAL_LOG' }, walLog!, sync!),
        row({ measure, dialect: 'PostgreSQL', kind: 'time', target: pgTarget, check: pgCheck, rounds, note: 'FILE_COPY' }, fileCopy!, sync!),
        row({ measure, dialect: 'PostgreSQL', kind: 'time', target: '— (picks the default strategy)', rounds, note: 'WAL_LOG vs FILE_COPY' }, walLog!, fileCopy!),
      );
      const [file, fileSync] = await interleave(
        [cloneSide('createTestDatabase (file copy)', sqliteBase, dir, head), syncSide('new file + sync()', 'file', dir, head, fixtures.root)],
        { rounds },
      );
      const [memory, memorySync] = await interleave(
        [cloneSide('createTestDatabase (:memory: image)', 'sqlite::memory:', dir, head, { templateDir }), syncSide(':memory: + sync()', 'memory', dir, head, fixtures.root)],
        { rounds },
      );
      rows.push(
        row({ measure, dialect: 'SQLite', kind: 'time', target: '≤ 5 ms', check: (_, ours) => ours.medianMs <= 5, rounds, note: 'file' }, file!, fileSync!),
        row({ measure, dialect: 'SQLite', kind: 'time', target: '≤ 2 ms', check: (_, ours) => ours.medianMs <= 2, rounds, note: ':memory:' }, memory!, memorySync!),
      );
    }
  } finally {
    for (const { dir } of histories) await dropTemplate(dir);
  }
  return rows;
}
