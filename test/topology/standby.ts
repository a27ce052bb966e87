import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { initCluster, startCluster, type Cluster } from './cluster.js';
import { freePort, runAsServerUser, serverDir } from './processes.js';

/** A throwaway primary and a streaming hot standby of it, each on a free port. */
export interface Replication {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` on the primary or the standby. */
  primaryUrl(database: string): string;
  standbyUrl(database: string): string;
  stop(): Promise<void>;
}

/** The server binaries of the newest PostgreSQL installed from Debian's packages. */
async function binaries(): Promise<string> {
  const fromConfig = await promisify(execFile)('pg_config', ['--bindir']).then(
    ({ stdout }) => stdout.trim(),
    () => undefined,
  );
  if (fromConfig && (await readdir(fromConfig)).includes('initdb')) return fromConfig;
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/**
 * initdb a primary (trust auth, replication allowed from localhost), pg_basebackup -R a standby from it, start
 * both. Everything lives in a temp folder, removed by `stop()`; the machine's own cluster is not touched.
 */
export async function startReplication(): Promise<Replication> {
  const bin = await binaries();
  const root = await serverDir('sql-helpers-replication-');
  const started: Cluster[] = [];
  const stop = async () => {
    for (const cluster of started.reverse()) await cluster.stop();
    await rm(root, { recursive: true, force: true });
  };
  try {
    const [primaryPort, standbyPort] = [await freePort(), await freePort()];
    await initCluster(bin, join(root, 'primary'));
    const primary = await startCluster(bin, join(root, 'primary'), primaryPort, root, ['wal_level=replica']);
    started.push(primary);
    const backup = ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', join(root, 'standby'), '-R', '-X', 'stream'];
    await runAsServerUser(join(bin, 'pg_basebackup'), backup);
    started.push(await startCluster(bin, join(root, 'standby'), standbyPort, root, ['hot_standby=on']));
    return { primaryUrl: primary.url, standbyUrl: started[1]!.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
