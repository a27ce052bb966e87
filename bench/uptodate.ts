// Databases with every generated migration applied, one per tool (their migrations create the same
// tables), for the no-op sync and cold-start scenarios. Built once, untimed.
import { join } from 'node:path';
import { DatabaseManager } from '../lib/index.js';
import { dropPgDatabase, freshPgDatabase } from './databases.js';
import type { Fixtures } from './fixtures.js';
import { nodePgMigrate, postgratorPg, postgratorSqlite } from './peers.js';

export interface UpToDate {
  pg: { helpers: Pg; postgrator: Pg; nodePgMigrate: Pg };
  sqlite: { helpers: string; postgrator: string };
  drop(): Promise<void>;
}

type Pg = { name: string; url: string };

export async function upToDate(fixtures: Fixtures): Promise<UpToDate> {
  const helpers = await freshPgDatabase('uptodate');
  const postgrator = await freshPgDatabase('uptodate');
  const npm = await freshPgDatabase('uptodate');
  const sqliteHelpers = join(fixtures.root, 'uptodate-helpers.db');
  const sqlitePostgrator = join(fixtures.root, 'uptodate-postgrator.db');
  for (const uri of [helpers.url, `sqlite://${sqliteHelpers}`]) {
    const db = new DatabaseManager(uri, fixtures.helpersDir);
    await db.sync();
    await db.close();
  }
  await postgratorPg(postgrator.url, fixtures.postgratorDir, postgrator.name);
  await postgratorSqlite(sqlitePostgrator, fixtures.postgratorDir);
  await nodePgMigrate(npm.url, fixtures.helpersDir);
  return {
    pg: { helpers, postgrator, nodePgMigrate: npm },
    sqlite: { helpers: sqliteHelpers, postgrator: sqlitePostgrator },
    async drop() {
      for (const database of [helpers, postgrator, npm]) await dropPgDatabase(database.name);
    },
  };
}
