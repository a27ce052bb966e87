// 12 `node lib/migrate.js sync` processes started at once on a fresh database with 40 migrations, against
// one process doing the same; checks afterwards that every migration was recorded exactly once.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../config.js';
import { dropPgDatabase, freshPgDatabase } from '../databases.js';
import type { Fixtures } from '../fixtures.js';
import { interleave, median, type Side, type SideResult } from '../harness.js';
import { CLI, node, type RunOptions } from '../processes.js';
import { row, type Row } from '../report.js';
import { processSide } from './cold-start.js';

const VERSION_TABLE = 'sql_helpers_migrations';

async function recordedPg(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(`SELECT count(DISTINCT version)::int AS n, count(*)::int AS total FROM ${VERSION_TABLE}`)).rows[0].total;
  } finally {
    await client.end();
  }
}

function recordedSqlite(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${VERSION_TABLE}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

let files = 0;

/**
 * A side that runs `processes` CLI syncs at once on a fresh database and checks the version table after.
 * `upToDate`: the database is migrated first (untimed), so the syncs only start, read and find nothing to do.
 */
function syncSide(dialect: 'postgres' | 'sqlite', processes: number, config: Config, fixtures: Fixtures, upToDate = false): Side {
  let uri = '';
  let cleanupTarget = '';
  const sync = (options: RunOptions) =>
    Promise.all(Array.from({ length: processes }, () => node([CLI, 'sync', '--database', uri, '--dir', fixtures.smallDir], options)));
  return processSide(
    `${processes === 1 ? 'one process' : `${processes} processes at once`}${upToDate ? ', up to date' : ''}`,
    sync,
    async () => {
      if (dialect === 'postgres') {
        const database = await freshPgDatabase('concurrent');
        uri = database.url;
        cleanupTarget = database.name;
      } else {
        cleanupTarget = join(fixtures.root, `concurrent-${files++}.db`);
        uri = `sqlite://${cleanupTarget}`;
      }
      if (upToDate) await node([CLI, 'sync', '--database', uri, '--dir', fixtures.smallDir], {});
    },
    async () => {
      const recorded = dialect === 'postgres' ? await recordedPg(uri) : recordedSqlite(cleanupTarget);
      if (recorded !== config.concurrentMigrations) throw new Error(`${dialect}: ${recorded} version rows after concurrent sync, expected ${config.concurrentMigrations}`);
      if (dialect === 'postgres') await dropPgDatabase(cleanupTarget);
      else for (const suffix of ['', '-wal', '-shm']) await rm(cleanupTarget + suffix, { force: true });
    },
  );
}

export async function concurrentSync(config: Config, fixtures: Fixtures): Promise<Row[]> {
  const rounds = config.concurrentRounds;
  const rows: Row[] = [];
  for (const dialect of ['postgres', 'sqlite'] as const) {
    // The CPU floor on this machine: the same number of empty node processes started at once.
    const floorSide = processSide(`${config.processes} × \`node -e 0\` at once`, (options) =>
      Promise.all(Array.from({ length: config.processes }, () => node(['-e', '0'], options))),
    );
    const [many, one, floor, manyStarting] = await interleave(
      [
        syncSide(dialect, config.processes, config, fixtures),
        syncSide(dialect, 1, config, fixtures),
        floorSide,
        syncSide(dialect, config.processes, config, fixtures, true),
      ],
      { rounds },
    );
    // What the concurrency itself costs: per round, the concurrent run less the CPU floor of the same round.
    const label = dialect === 'postgres' ? 'PostgreSQL' : 'SQLite';
    const lessFloor = (side: SideResult): SideResult => {
      const samples = side.samples.map((ms, round) => ms - floor!.samples[round]!);
      return { ...side, name: `${side.name}, less the floor`, samples, medianMs: median(samples) };
    };
    const beyondFloor = lessFloor(many!);
    rows.push(
      row(
        {
          measure: `${config.processes} concurrent \`sync\` processes less the CPU floor (12 × \`node -e 0\` at once, same round)`,
          dialect: label,
          kind: 'time',
          target: '≤ 1.5× one process',
          check: (ratio) => ratio <= 1.5,
          rounds,
        },
        beyondFloor,
        one!,
      ),
      row(
        {
          measure: `${config.processes} concurrent \`sync\` processes, fresh db, ${config.concurrentMigrations} migrations (round trips: all processes)`,
          dialect: label,
          kind: 'time',
          target: '— (reference)',
          rounds,
        },
        many!,
        one!,
      ),
      row(
        {
          // How much of the row above is start-up alone: the same processes with nothing to apply and no lock to wait for.
          measure: `${config.processes} concurrent \`sync\` processes on an up-to-date db (start, read, nothing to do) less the CPU floor`,
          dialect: label,
          kind: 'time',
          target: '— (reference)',
          rounds,
        },
        lessFloor(manyStarting!),
        one!,
      ),
      row(
        {
          measure: `CPU floor: ${config.processes} empty node processes at once, against one \`sync\` process`,
          dialect: label,
          kind: 'time',
          target: '— (reference)',
          rounds,
        },
        floor!,
        one!,
      ),
    );
  }
  return rows;
}
