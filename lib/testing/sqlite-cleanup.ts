import { readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isGone } from './creator.js';
import { COMPANIONS, parsePlaced, type PlacedFile, type SqlitePlace } from './sqlite-place.js';
import { removesTemplate, type TemplatePolicy } from './template-policy.js';

/** Removes a database file and whatever SQLite kept beside it. */
export async function removeDatabaseFile(file: string): Promise<void> {
  for (const suffix of COMPANIONS) await rm(file + suffix, { force: true });
}

async function isLeftover(placed: PlacedFile, templates: TemplatePolicy): Promise<boolean> {
  if (placed.kind === 'template') return removesTemplate(templates, placed);
  // Files are local: the creator ran on this host. A copy whose creator is alive may be in use.
  const createdAt = (await stat(placed.file).catch(() => undefined))?.mtimeMs;
  return createdAt !== undefined && isGone({ pid: placed.pid, host: hostname(), createdAt });
}

/**
 * Removes what the tool left in `place` that nobody uses: copies and unfinished builds whose process has
 * exited, and templates per `templates`. Files it did not name are never touched. Returns the files removed.
 * (A template removed while another process copies it is safe: the copy holds the file open; a process that
 * finds it gone builds it again.)
 */
export async function removeSqliteLeftovers(place: SqlitePlace, templates: TemplatePolicy): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(place.folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const placed = parsePlaced(place, name);
    if (placed === undefined || !(await isLeftover(placed, templates))) continue;
    await removeDatabaseFile(placed.file);
    removed.push(placed.file);
  }
  return removed;
}
