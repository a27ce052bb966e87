import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DatabaseManager, type DatabaseManagerOptions } from '../manager.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../options.js';
import type { PostgresTarget } from '../uri.js';
import type { Clone } from './clone.js';
import { PostgresAdmin, isDuplicateDatabase, isMissingDatabase, provenance } from './postgres-admin.js';
import { removeLeftovers } from './postgres-cleanup.js';
import { Spares, sparesOf } from './spares.js';
import type { TemplateKey } from './template-key.js';

/** How `CREATE DATABASE … TEMPLATE` copies the template (PostgreSQL 15 and later; older servers have one way). */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY';

/**
 * Measured on PostgreSQL 15 (bench/scenarios/test-database.ts): FILE_COPY copies the template's files and
 * checkpoints, WAL_LOG copies block by block through the WAL. See docs/testing.md for the figures.
 */
export const DEFAULT_CLONE_STRATEGY: CloneStrategy = 'WAL_LOG';

export interface PostgresCloneOptions {
  manager: DatabaseManagerOptions;
  strategy: CloneStrategy | undefined;
  /** Databases kept cloned ahead per template (from the process's second call on); 0: none. */
  spares: number;
}

/** The template's name: which source (folder and options) and which files. */
export const templateName = (key: TemplateKey) => `sqlh_tpl_${key.source.slice(0, 8)}_${key.hash.slice(0, 16)}`;

/** The group of spares of one server: `releaseSpares` takes it as a prefix. */
export const serverGroup = (target: PostgresTarget) => `postgres\0${target.connectionString}\0`;

// Leftovers of crashed runs are looked for once per process and server, before its first clone.
const leftoversRemoved = new WeakMap<PostgresAdmin, Promise<unknown>>();

/**
 * A new database on the server `target` names, with every migration of `migrationsDir` applied (via the
 * template): a spare cloned ahead when there is one, else a clone made now (building the template first if
 * it does not exist); then the next spare is started.
 */
export async function clonePostgres(target: PostgresTarget, key: TemplateKey, migrationsDir: string, options: PostgresCloneOptions): Promise<Clone> {
  const admin = PostgresAdmin.for(target);
  if (!leftoversRemoved.has(admin)) leftoversRemoved.set(admin, removeLeftovers(admin, 'keep').catch(() => undefined));
  await leftoversRemoved.get(admin);
  const template = { name: templateName(key), strategy: options.strategy ?? DEFAULT_CLONE_STRATEGY };
  const newName = () => `sqlh_test_${key.hash.slice(0, 8)}_${randomBytes(5).toString('hex')}`;
  const spares = await sparesOf(`${serverGroup(target)}${key.source}\0${template.strategy}\0${options.spares}`, template.name, () =>
    new Spares(
      {
        async make() {
          const name = newName();
          await admin.create(name, provenance('test', key), template);
          return name;
        },
        discard: (name) => admin.drop(name, { force: true }),
      },
      options.spares,
    ),
  );
  let name = await spares.take();
  if (name === undefined) {
    name = newName();
    try {
      await admin.create(name, provenance('test', key), template);
    } catch (error) {
      if (!isMissingDatabase(error)) throw error;
      await buildTemplate(admin, key, migrationsDir, options.manager);
      await admin.create(name, provenance('test', key), template);
    }
  }
  spares.refill();
  const made = name;
  const url = admin.urlOf(made);
  return { url, db: new DatabaseManager(url, migrationsDir, options.manager), remove: () => admin.drop(made, { force: true }) };
}

/**
 * Migrates a new database under a temporary name and renames it to the template's, so a template never exists
 * half-built; under the lock, so that processes starting together build it once. Then removes the templates it
 * supersedes.
 */
async function buildTemplate(admin: PostgresAdmin, key: TemplateKey, migrationsDir: string, options: DatabaseManagerOptions): Promise<void> {
  const template = templateName(key);
  await admin.withLock(template, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, async () => {
    if (await admin.exists(template)) return; // built by another process while this one waited
    const started = performance.now();
    const building = `sqlh_bld_${key.hash.slice(0, 16)}_${randomBytes(4).toString('hex')}`;
    await admin.create(building, provenance('building', key));
    try {
      const db = new DatabaseManager(admin.urlOf(building), migrationsDir, options);
      try {
        await db.sync();
      } finally {
        await db.close();
      }
      options.logger?.info(`sql-helpers/testing: built template database ${template} in ${Math.round(performance.now() - started)} ms`);
      await admin.publish(building, template, provenance('template', key));
    } catch (error) {
      await admin.drop(building, { force: true }).catch(() => undefined);
      // Only without the lock (the tests' negative control) can another process publish the same template first.
      if (isDuplicateDatabase(error)) return;
      throw error;
    }
    await removeLeftovers(admin, { supersededBy: key });
  });
}
