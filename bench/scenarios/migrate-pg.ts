// Apply N generated migrations to a fresh PostgreSQL database: sql-helpers against psql (the floor: one
// session, one transaction per file), Postgrator and node-pg-migrate. Databases are created and dropped
// outside the timed part; each tool's run includes connecting and reading its files.
import { DatabaseManager, SyncResult } from '../../lib/index.js';
import type { Config } from '../config.js';
import { dropPgDatabase, freshPgDatabase } from '../databases.js';
import type { Fixtures } from '../fixtures.js';
import { interleave, type Side } from '../harness.js';
import { STATEMENTS_PER_MIGRATION } from '../migrations.js';
import { nodePgMigrate, postgratorPg, psqlScript } from '../peers.js';
import { row, type Row } from '../report.js';

/** A side that gets a fresh database before each run and drops it after. */
function onFreshDatabase(name: string, expected: number, apply: (url: string, database: string) => Promise<unknown>, extra: Partial<Side> = {}): Side {
  let current: { name: string; url: string } | undefined;
  return {
    name,
    unitsPerRun: expected,
    async prepare() {
      current = await freshPgDatabase('apply');
    },
    async run() {
      await apply(current!.url, current!.name);
    },
    async cleanup() {
      await dropPgDatabase(current!.name);
    },
    ...extra,
  };
}

export async function migratePg(config: Config, fixtures: Fixtures): Promise<Row[]> {
  const n = config.migrations;
  const rounds = config.migrateRounds;
  const [ours, psql, postgrator, npm] = await interleave(
    [
      onFreshDatabase('sql-helpers', n, async (url) => {
        const db = new DatabaseManager(url, fixtures.helpersDir);
        try {
          const result = await db.sync();
          if (result !== SyncResult.CREATED || (await db.getCurrentRevision()) !== n) throw new Error(`sql-helpers: ${result}, not all ${n} applied`);
        } finally {
          await db.close();
        }
      }),
      onFreshDatabase('psql, 1 session, BEGIN/\\i/COMMIT per file', n, (url) => psqlScript(url, fixtures.psqlScript), {
        roundTrips: () => STATEMENTS_PER_MIGRATION + 2,
      }),
      onFreshDatabase('Postgrator (no transactions)', n, async (url, database) => {
        const applied = await postgratorPg(url, fixtures.postgratorDir, database);
        if (applied !== n) throw new Error(`Postgrator applied ${applied} of ${n}`);
      }),
      onFreshDatabase('node-pg-migrate (1 transaction per file)', n, async (url) => {
        const applied = await nodePgMigrate(url, fixtures.helpersDir);
        if (applied !== n) throw new Error(`node-pg-migrate applied ${applied} of ${n}`);
      }),
    ],
    { rounds },
  );
  const measure = `apply ${n} migrations (3 statements each), fresh db`;
  return [
    row({ measure, dialect: 'PostgreSQL', kind: 'time', target: '≤ 1.1× the psql floor', check: (ratio) => ratio <= 1.1, rounds }, ours!, psql!),
    row({ measure, dialect: 'PostgreSQL', kind: 'time', target: '— (reference)', rounds }, ours!, postgrator!),
    row({ measure, dialect: 'PostgreSQL', kind: 'time', target: 'faster (< 1×)', check: (ratio) => ratio < 1, rounds }, ours!, npm!),
  ];
}
