// sync() on a database that is up to date with N applied migrations, against Postgrator and
// node-pg-migrate doing the same no-op. Each run is what a service does at start-up: connect, read the
// files, compare, return, close.
import { DatabaseManager, SyncResult } from '../../lib/index.js';
import type { Config } from '../config.js';
import type { Fixtures } from '../fixtures.js';
import { interleave, type SideResult } from '../harness.js';
import { nodePgMigrate, postgratorPg, postgratorSqlite } from '../peers.js';
import { row, type Row } from '../report.js';
import type { UpToDate } from '../uptodate.js';

async function helpersNoop(uri: string, dir: string): Promise<void> {
  const db = new DatabaseManager(uri, dir);
  try {
    const result = await db.sync();
    if (result !== SyncResult.ALREADY_UP_TO_DATE) throw new Error(`sql-helpers no-op sync returned ${result}`);
  } finally {
    await db.close();
  }
}

const noApplied = (count: number, tool: string) => {
  if (count !== 0) throw new Error(`${tool} applied ${count} migrations on an up-to-date database`);
};

const fast = (ratio: number, ours: SideResult) => ratio <= 0.2 && ours.roundTrips !== undefined && ours.roundTrips <= 3;

export async function noopSync(config: Config, fixtures: Fixtures, dbs: UpToDate): Promise<Row[]> {
  const rounds = config.noopRounds;
  const n = config.migrations;
  const [ours, postgrator, npm] = await interleave(
    [
      { name: 'sql-helpers', run: () => helpersNoop(dbs.pg.helpers.url, fixtures.helpersDir) },
      { name: 'Postgrator', run: async () => noApplied(await postgratorPg(dbs.pg.postgrator.url, fixtures.postgratorDir, dbs.pg.postgrator.name), 'Postgrator') },
      { name: 'node-pg-migrate', run: async () => noApplied(await nodePgMigrate(dbs.pg.nodePgMigrate.url, fixtures.helpersDir), 'node-pg-migrate') },
    ],
    { rounds },
  );
  const [oursLite, postgratorLite] = await interleave(
    [
      { name: 'sql-helpers', run: () => helpersNoop(`sqlite://${dbs.sqlite.helpers}`, fixtures.helpersDir) },
      { name: 'Postgrator sqlite3 mode', run: async () => noApplied(await postgratorSqlite(dbs.sqlite.postgrator, fixtures.postgratorDir), 'Postgrator') },
    ],
    { rounds },
  );
  const measure = `no-op sync(), ${n} applied (connect, read files, compare, close)`;
  const target = '≥ 5× faster (≤ 0.2×), ≤ 3 round trips';
  return [
    row({ measure, dialect: 'PostgreSQL', kind: 'time', target, check: fast, rounds }, ours!, postgrator!),
    row({ measure, dialect: 'PostgreSQL', kind: 'time', target, check: fast, rounds }, ours!, npm!),
    row({ measure, dialect: 'SQLite', kind: 'time', target: '— (extra row)', rounds }, oursLite!, postgratorLite!),
  ];
}
