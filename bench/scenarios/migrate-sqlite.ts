// Apply N generated migrations to a fresh SQLite file: sql-helpers against Postgrator's SQLite mode over
// better-sqlite3. A new temp file per run, removed after it.
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { DatabaseManager, SyncResult } from '../../lib/index.js';
import type { Config } from '../config.js';
import type { Fixtures } from '../fixtures.js';
import { interleave, type Side } from '../harness.js';
import { postgratorSqlite } from '../peers.js';
import { row, type Row } from '../report.js';

let files = 0;

function onFreshFile(name: string, dir: string, expected: number, apply: (file: string) => Promise<void>): Side {
  let file = '';
  return {
    name,
    unitsPerRun: expected,
    async prepare() {
      file = join(dir, `apply-${files++}.db`);
    },
    run: () => apply(file),
    async cleanup() {
      for (const suffix of ['', '-wal', '-shm']) await rm(file + suffix, { force: true });
    },
  };
}

export async function migrateSqlite(config: Config, fixtures: Fixtures): Promise<Row[]> {
  const n = config.migrations;
  const rounds = config.migrateRounds;
  const [ours, postgrator] = await interleave(
    [
      onFreshFile('sql-helpers', fixtures.root, n, async (file) => {
        const db = new DatabaseManager(`sqlite://${file}`, fixtures.helpersDir);
        try {
          const result = await db.sync();
          if (result !== SyncResult.CREATED || (await db.getCurrentRevision()) !== n) throw new Error(`sql-helpers: ${result}, not all ${n} applied`);
        } finally {
          await db.close();
        }
      }),
      onFreshFile('Postgrator sqlite3 mode (no transactions)', fixtures.root, n, async (file) => {
        const applied = await postgratorSqlite(file, fixtures.postgratorDir);
        if (applied !== n) throw new Error(`Postgrator applied ${applied} of ${n}`);
      }),
    ],
    { rounds },
  );
  return [
    row(
      { measure: `apply ${n} migrations (3 statements each), fresh file`, dialect: 'SQLite', kind: 'time', target: 'faster (< 1×)', check: (ratio) => ratio < 1, rounds },
      ours!,
      postgrator!,
    ),
  ];
}
