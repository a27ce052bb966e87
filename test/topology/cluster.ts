import { join } from 'node:path';
import { runAsServerUser, waitForServer } from './processes.js';

/** A PostgreSQL data directory run by the binaries in `bin`, stopped (fast, no shutdown checkpoint) by `stop()`. */
export interface Cluster {
  url(database: string): string;
  stop(): Promise<void>;
}

/** `initdb` with trust auth for everyone, replication included, and no fsync: a throwaway cluster. */
export async function initCluster(bin: string, dataDir: string): Promise<void> {
  await runAsServerUser(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
}

/** Starts the cluster in `dataDir` on 127.0.0.1:`port`, its socket and log in `runDir`, and waits until it answers. */
export async function startCluster(bin: string, dataDir: string, port: number, runDir: string, settings: string[] = []): Promise<Cluster> {
  const options = [`-p ${port}`, `-k ${runDir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off', ...settings.map((setting) => `-c ${setting}`)];
  const pgCtl = (...args: string[]) => runAsServerUser(join(bin, 'pg_ctl'), ['-D', dataDir, ...args]);
  await pgCtl('-w', '-l', `${dataDir}.log`, '-o', options.join(' '), 'start');
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const stop = async () => void (await pgCtl('-m', 'immediate', 'stop').catch(() => undefined));
  try {
    await waitForServer(url('postgres'));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
