import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, runAsServerUser, serverDir, waitForServer } from './processes.js';

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
 * both. Everything lives in temp folders, removed by `stop()`; the machine's own cluster is not touched.
 */
export async function startReplication(): Promise<Replication> {
  const bin = await binaries();
  const root = await serverDir('sql-helpers-replication-');
  const primary = join(root, 'primary');
  const standby = join(root, 'standby');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const started: string[] = [];
  const pgCtl = (dir: string, ...args: string[]) => runAsServerUser(join(bin, 'pg_ctl'), ['-D', dir, ...args]);
  const stop = async () => {
    for (const dir of started.reverse()) await pgCtl(dir, '-m', 'immediate', 'stop').catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  try {
    await runAsServerUser(join(bin, 'initdb'), ['-D', primary, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    const options = (port: number) => `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c wal_level=replica`;
    await pgCtl(primary, '-w', '-l', join(root, 'primary.log'), '-o', options(primaryPort), 'start');
    started.push(primary);
    await runAsServerUser(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standby, '-R', '-X', 'stream']);
    await pgCtl(standby, '-w', '-l', join(root, 'standby.log'), '-o', `${options(standbyPort)} -c hot_standby=on`, 'start');
    started.push(standby);
    const url = (port: number) => (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    await waitForServer(url(standbyPort)('postgres'));
    return { primaryUrl: url(primaryPort), standbyUrl: url(standbyPort), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
