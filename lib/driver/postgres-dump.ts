import { ConfigurationError, SqlHelpersError } from '../errors.js';
import type { PostgresTarget } from '../uri.js';

/** What `pgDump` needs: where, which schema, and the server's major version to match. */
export interface PgDumpRequest {
  target: PostgresTarget;
  schema: string;
  serverMajor: number;
  connectTimeoutMs: number | undefined;
}

// Query parameters only pg understands; libpq (which pg_dump uses) refuses unknown ones.
const PG_ONLY_PARAMETERS = new Set(['ssl', 'uselibpqcompat']);

/**
 * The URI for libpq without its password, which goes through PGPASSWORD instead: a command line is visible to
 * every user of the machine (ps), the environment of a process is not.
 */
export function libpqUri(connectionString: string): string {
  const [base, query] = connectionString.split(/\?(.*)/s, 2) as [string, string | undefined];
  // Redaction of the user-info's password: user:secret@host → user@host (the URI parser refused unencoded / ? # in it).
  const withoutSecret = base.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i, '$1@');
  if (query === undefined) return withoutSecret;
  const kept = query.split('&').filter((pair) => {
    const key = pair.split('=')[0]!.toLowerCase();
    return key !== 'password' && !PG_ONLY_PARAMETERS.has(key);
  });
  return kept.length === 0 ? withoutSecret : `${withoutSecret}?${kept.join('&')}`;
}

async function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  // Loaded here: child_process (with net and streams) is a tenth of the CLI's start-up, and only dump needs it.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** The pg_dump to use: `$PG_DUMP`, else `pg_dump` on the PATH. */
function pgDumpPath(): string {
  return process.env.PG_DUMP || 'pg_dump';
}

async function pgDumpMajor(file: string): Promise<number> {
  let stdout: string;
  try {
    ({ stdout } = await run(file, ['--version'], process.env));
  } catch (error) {
    throw new ConfigurationError(
      `cannot run ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): dumping a PostgreSQL schema needs pg_dump; ` +
        'install the PostgreSQL client tools (e.g. apt install postgresql-client) or set PG_DUMP to its path',
      { code: 'PG_DUMP_MISSING', cause: error },
    );
  }
  const major = Number(/\(PostgreSQL\)\s+(\d+)/.exec(stdout)?.[1]);
  if (!Number.isInteger(major)) {
    throw new ConfigurationError(`${file} --version printed ${JSON.stringify(stdout.trim())}, not a pg_dump version`, { code: 'PG_DUMP_MISSING' });
  }
  return major;
}

/**
 * `pg_dump --schema-only` of one schema, without owners, privileges and the lines that differ between runs or
 * machines (the versions that dumped it, the random `\restrict` key of pg_dump 17.6+/16.10+/15.14+): the same
 * schema gives the same text, so it diffs well in review.
 */
export async function pgDump(request: PgDumpRequest): Promise<string> {
  const file = pgDumpPath();
  const major = await pgDumpMajor(file);
  if (major < request.serverMajor) {
    throw new ConfigurationError(
      `${file} is version ${major}, older than the PostgreSQL ${request.serverMajor} server, which it cannot dump; ` +
        `install pg_dump ${request.serverMajor} or newer and point PG_DUMP at it`,
      { code: 'PG_DUMP_TOO_OLD' },
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PGAPPNAME: 'sql-helpers dump' };
  if (request.target.password !== undefined) env.PGPASSWORD = request.target.password;
  if (request.connectTimeoutMs !== undefined) env.PGCONNECT_TIMEOUT = String(Math.max(2, Math.ceil(request.connectTimeoutMs / 1000)));
  // Double quotes make the schema a literal name rather than a pattern (where * ? . mean something).
  const schema = `"${request.schema.replaceAll('"', '""')}"`;
  let stdout: string;
  try {
    ({ stdout } = await run(file, ['--schema-only', '--no-owner', '--no-privileges', `--schema=${schema}`, `--dbname=${libpqUri(request.target.connectionString)}`], env));
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new SqlHelpersError(`pg_dump of schema ${schema} on ${request.target.redacted} failed: ${stderr || (error as Error).message}`, {
      code: 'DUMP_FAILED',
      cause: error,
    });
  }
  return stdout
    .split('\n')
    .filter((line) => !/^\\(un)?restrict\b/.test(line) && !/^-- Dumped (from database|by pg_dump) version/.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}
