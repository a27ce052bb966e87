// `node lib/migrate.js status` as a whole process (spawn, wait for exit) on up-to-date databases with N
// files, against `node-pg-migrate up` with nothing to do and an empty `node -e 0`.
import type { Config } from '../config.js';
import type { Fixtures } from '../fixtures.js';
import { interleave, type Side } from '../harness.js';
import { CLI, NODE_PG_MIGRATE_CLI, node, tripsFile, type RunOptions } from '../processes.js';
import { row, type Row } from '../report.js';
import type { UpToDate } from '../uptodate.js';

/** A child-process side whose first (warm-up) run counts round trips with the preload. */
export function processSide(name: string, start: (options: RunOptions) => Promise<unknown>, prepare?: () => Promise<void>, cleanup?: () => Promise<void>): Side {
  let trips: number | undefined;
  let runs = 0;
  return {
    name,
    ...(prepare ? { prepare } : {}),
    ...(cleanup ? { cleanup } : {}),
    async run() {
      if (runs++ > 0) {
        await start({});
        return;
      }
      const file = tripsFile();
      await start({ countInto: file.path });
      trips = await file.total();
    },
    roundTrips: () => trips,
  };
}

export async function coldStart(config: Config, fixtures: Fixtures, dbs: UpToDate): Promise<Row[]> {
  const rounds = config.coldRounds;
  const status = (uri: string) => (options: RunOptions) => node([CLI, 'status', '--database', uri, '--dir', fixtures.helpersDir], options);
  const [lite, pg, npm, empty] = await interleave(
    [
      processSide('sqlite', status(`sqlite://${dbs.sqlite.helpers}`)),
      processSide('postgres', status(dbs.pg.helpers.url)),
      processSide('`node-pg-migrate up`, nothing to do', (options) =>
        node([NODE_PG_MIGRATE_CLI, 'up', '-m', fixtures.helpersDir, '--migrations-table', 'pgmigrations', '--no-single-transaction'], {
          ...options,
          env: { DATABASE_URL: dbs.pg.nodePgMigrate.url },
        }),
      ),
      processSide('`node -e 0`', (options) => node(['-e', '0'], options)),
    ],
    { rounds },
  );
  const measure = `\`node lib/migrate.js status\` cold start, ${config.migrations} files`;
  return [
    row({ measure, dialect: 'SQLite', kind: 'time', target: '≤ 100 ms', check: (_, ours) => ours.medianMs <= 100, rounds }, lite!, npm!),
    row({ measure, dialect: 'PostgreSQL', kind: 'time', target: '≤ 120 ms', check: (_, ours) => ours.medianMs <= 120, rounds }, pg!, npm!),
    row({ measure, dialect: 'SQLite', kind: 'time', target: '≤ 1.8× `node -e 0`', check: (ratio) => ratio <= 1.8, rounds }, lite!, empty!),
    row({ measure, dialect: 'PostgreSQL', kind: 'time', target: '≤ 2.0× `node -e 0`', check: (ratio) => ratio <= 2, rounds }, pg!, empty!),
  ];
}
