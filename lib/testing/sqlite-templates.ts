import { constants } from 'node:fs';
import { access, copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { DatabaseManager, type DatabaseManagerOptions } from '../manager.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../options.js';
import type { SqliteTarget } from '../uri.js';
import type { Clone } from './clone.js';
import { removeDatabaseFile, removeSqliteLeftovers } from './sqlite-cleanup.js';
import { buildingFile, lockFile, placeOf, templateFile, testFile, type SqlitePlace } from './sqlite-place.js';
import { Spares, sparesOf } from './spares.js';
import type { TemplateKey } from './template-key.js';
import { UNSAFE_NO_TEMPLATE_LOCK } from './unsafe-no-lock.js';

export interface SqliteCloneOptions {
  manager: DatabaseManagerOptions;
  templateDir: string | undefined;
  /** File copies kept made ahead per template (from the process's second call on); 0: none. */
  spares: number;
}

/** The group of spares of one place: `releaseSpares` takes it as a prefix. */
export const placeGroup = (place: SqlitePlace) => `sqlite\0${place.folder}\0${place.base}\0`;

// Per process and place: the folder made and crashed runs' leftovers removed, once, before the first copy.
const prepared = new Map<string, Promise<unknown>>();
// Template file → its bytes, for `:memory:` copies: read once per process, deserialized per call.
const images = new Map<string, Promise<Buffer>>();

function prepare(place: SqlitePlace): Promise<unknown> {
  const id = `${place.folder}\0${place.base}`;
  let done = prepared.get(id);
  if (done === undefined) {
    done = mkdir(place.folder, { recursive: true }).then(() => removeSqliteLeftovers(place, 'keep'));
    prepared.set(id, done);
  }
  return done;
}

const isMissingFile = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * A new SQLite database with every migration applied: a copy of the template file beside the caller's file,
 * or, for `sqlite::memory:`, an in-memory database deserialized from the template.
 */
export async function cloneSqlite(target: SqliteTarget, key: TemplateKey, migrationsDir: string, options: SqliteCloneOptions): Promise<Clone> {
  const place = placeOf(target.filename, options.templateDir);
  await prepare(place);
  const template = templateFile(place, key);
  const build = () => buildTemplate(place, template, key, migrationsDir, options.manager);
  if (target.filename === ':memory:') {
    const image = await imageOf(template).catch(async (error: unknown) => {
      if (!isMissingFile(error)) throw error;
      images.delete(template);
      await build();
      return imageOf(template);
    });
    return { url: 'sqlite::memory:', db: new DatabaseManager('sqlite::memory:', migrationsDir, { ...options.manager, sqliteImage: image }), remove: async () => {} };
  }
  const spares = await sparesOf(`${placeGroup(place)}${key.source}\0${options.spares}`, template, () =>
    new Spares({ make: () => copyTemplate(template, testFile(place)), discard: removeDatabaseFile }, options.spares),
  );
  const copy =
    (await spares.take()) ??
    (await copyTemplate(template, testFile(place)).catch(async (error: unknown) => {
      if (!isMissingFile(error)) throw error;
      await build();
      return copyTemplate(template, testFile(place));
    }));
  spares.refill();
  const url = `sqlite://${copy}`;
  return { url, db: new DatabaseManager(url, migrationsDir, options.manager), remove: () => removeDatabaseFile(copy) };
}

/** Copies the template to `copy` off this thread (libuv); FICLONE shares the blocks where the file system can (btrfs, XFS). */
async function copyTemplate(template: string, copy: string): Promise<string> {
  await copyFile(template, copy, constants.COPYFILE_FICLONE);
  return copy;
}

// Header bytes 18 and 19 hold the file format versions: 2 means WAL, which an in-memory database cannot use; 1 is
// the rollback journal (https://www.sqlite.org/fileformat.html#file_format_version_numbers).
const FORMAT_VERSIONS = [18, 19];

function imageOf(template: string): Promise<Buffer> {
  let image = images.get(template);
  if (image === undefined) {
    image = readFile(template).then((bytes) => {
      for (const offset of FORMAT_VERSIONS) bytes[offset] = 1;
      return bytes;
    });
    images.set(template, image);
  }
  return image;
}

/**
 * Migrates a new file under a temporary name and renames it to the template's (atomic: a template is never
 * seen half-built), under the place's lock so that processes starting together build it once; then removes
 * the templates it supersedes. Closing the build checkpoints its WAL into the one file, which stays in WAL
 * mode, so that opening a copy need not switch modes (a write and an fsync).
 */
async function buildTemplate(place: SqlitePlace, template: string, key: TemplateKey, migrationsDir: string, options: DatabaseManagerOptions): Promise<void> {
  await withPlaceLock(place, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, async () => {
    if (await access(template).then(() => true, () => false)) return; // built by another process while this one waited
    const started = performance.now();
    const building = buildingFile(place);
    try {
      const db = new DatabaseManager(`sqlite://${building}`, migrationsDir, options);
      try {
        await db.sync();
      } finally {
        await db.close();
      }
      options.logger?.info(`sql-helpers/testing: built template ${template} in ${Math.round(performance.now() - started)} ms`);
      await rename(building, template);
    } catch (error) {
      await removeDatabaseFile(building);
      throw error;
    }
    await removeSqliteLeftovers(place, { supersededBy: key });
  });
}

// The lock is SQLite's own write lock on a small lock database: the OS drops it when its holder dies, so a
// crashed build leaves no stale lock behind. Waiting uses the busy timeout (it blocks this thread; a test
// process has nothing else to do meanwhile).
async function withPlaceLock<T>(place: SqlitePlace, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  if (UNSAFE_NO_TEMPLATE_LOCK) return fn();
  const lock = new DatabaseManager(`sqlite://${lockFile(place)}`, '.', { engineArgs: { timeout: timeoutMs } });
  try {
    return await lock.transaction(() => fn());
  } finally {
    await lock.close();
  }
}
