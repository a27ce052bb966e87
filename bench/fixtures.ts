// The generated migration folders every scenario shares, written once per bench run.
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Config } from './config.js';
import { tempFolder } from './databases.js';
import { writePostgratorFiles, writePsqlScript, writeSqlHelpersFiles } from './migrations.js';

export interface Fixtures {
  root: string;
  /** `config.migrations` files named for sql-helpers (and node-pg-migrate, which takes the same names). */
  helpersDir: string;
  /** The same files named for Postgrator. */
  postgratorDir: string;
  /** psql: BEGIN; \i file; COMMIT; for each file of helpersDir. */
  psqlScript: string;
  /** `config.concurrentMigrations` files for the concurrency scenario. */
  smallDir: string;
}

export async function makeFixtures(config: Config): Promise<Fixtures> {
  const root = await tempFolder('sqlh-bench-files-');
  const helpersDir = join(root, 'sql-helpers');
  const postgratorDir = join(root, 'postgrator');
  const smallDir = join(root, 'small');
  for (const dir of [helpersDir, postgratorDir, smallDir]) await mkdir(dir);
  const files = await writeSqlHelpersFiles(helpersDir, config.migrations);
  await writePostgratorFiles(postgratorDir, config.migrations);
  await writeSqlHelpersFiles(smallDir, config.concurrentMigrations);
  const psqlScript = join(root, 'apply.psql');
  await writePsqlScript(psqlScript, files);
  return { root, helpersDir, postgratorDir, psqlScript, smallDir };
}
