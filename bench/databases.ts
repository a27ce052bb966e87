// Fresh PostgreSQL databases and SQLite temp folders, and their cleanup.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The server the bench uses: trust auth on the local PostgreSQL 15. */
export const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const created = new Set<string>();
const folders = new Set<string>();

export async function admin(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the bench server. */
export function urlOf(name: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates an empty database and returns its name and URL. */
export async function freshPgDatabase(prefix = 'bench'): Promise<{ name: string; url: string }> {
  const name = `sqlh_${prefix}_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  created.add(name);
  return { name, url: urlOf(name) };
}

export async function dropPgDatabase(name: string): Promise<void> {
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  created.delete(name);
}

/** A new temp folder (for SQLite files and generated migrations). */
export async function tempFolder(prefix = 'sqlh-bench-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  folders.add(dir);
  return dir;
}

export async function removeFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  folders.delete(dir);
}

/** Drops every database and removes every folder still around (on success and on failure). */
export async function cleanupAll(): Promise<void> {
  for (const name of [...created]) await dropPgDatabase(name).catch(() => undefined);
  for (const dir of [...folders]) await removeFolder(dir).catch(() => undefined);
}
