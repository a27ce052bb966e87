import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, runAsServerUser, serverDir, waitForServer } from './processes.js';

/** A running PgBouncer in transaction mode in front of one PostgreSQL server. */
export interface Pooler {
  /** `postgres://postgres@127.0.0.1:<port>/<database>`: the pooler's URL for `database`. */
  url(database: string): string;
  port: number;
  stop(): Promise<void>;
}

export interface PoolerOptions {
  /** The PostgreSQL server behind it. */
  host?: string;
  port?: number;
  /** Server connections per database and user (PgBouncer's default_pool_size). */
  poolSize?: number;
}

/**
 * Starts Debian's PgBouncer the way services deploy it: `pool_mode = transaction`, the startup `options`
 * parameter ignored (as most hosted poolers do), a small pool, every database name forwarded.
 */
export async function startPgBouncer(options: PoolerOptions = {}): Promise<Pooler> {
  const dir = await serverDir('sql-helpers-pgbouncer-');
  const port = await freePort();
  const config = join(dir, 'pgbouncer.ini');
  await writeFile(join(dir, 'users.txt'), '"postgres" ""\n', { mode: 0o644 });
  await writeFile(
    config,
    [
      '[databases]',
      `* = host=${options.host ?? '127.0.0.1'} port=${options.port ?? 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 6}`,
      'max_client_conn = 1000',
      'ignore_startup_parameters = options,extra_float_digits',
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  await runAsServerUser('pgbouncer', ['-d', '-q', config]);
  // -d returns once it has forked; the child writes its pid file a moment later.
  let pid = 0;
  for (const deadline = Date.now() + 10_000; !pid; await sleep(20)) {
    pid = Number((await readFile(join(dir, 'pgbouncer.pid'), 'utf8').catch(() => '')).trim());
    if (!pid && Date.now() > deadline) throw new Error(`PgBouncer wrote no pid file: ${await readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '')}`);
  }
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForServer(url('postgres'));
  } catch (error) {
    const log = await readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '');
    await stop();
    throw new Error(`PgBouncer did not start: ${String(error)}\n${log}`);
  }
  return { url, port, stop };
}
