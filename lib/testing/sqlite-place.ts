import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { TemplateKey } from './template-key.js';

/**
 * Where SQLite templates and copies live: beside the file the caller's URI names, each name starting with
 * that file's base name and `.sqlh-`, so cleanup recognises them and touches nothing else.
 */
export interface SqlitePlace {
  folder: string;
  base: string;
}

/** A file the tool made, as its name says. */
export type PlacedFile =
  | { kind: 'template'; file: string; source: string; hash: string }
  | { kind: 'building' | 'test'; file: string; pid: number };

/** The place for `filename` (`:memory:` uses `templateDir`, by default a folder in the system temp folder). */
export function placeOf(filename: string, templateDir: string | undefined): SqlitePlace {
  if (filename === ':memory:') return { folder: resolve(templateDir ?? join(tmpdir(), 'sql-helpers-templates')), base: 'memory' };
  return { folder: dirname(resolve(filename)), base: basename(filename).replace(/\.(db|sqlite3?)$/i, '') };
}

const random = () => randomBytes(5).toString('hex');
const at = (place: SqlitePlace, name: string) => join(place.folder, `${place.base}.sqlh-${name}.db`);

export const templateFile = (place: SqlitePlace, key: TemplateKey) => at(place, `template-${key.source.slice(0, 8)}-${key.hash.slice(0, 16)}`);
export const buildingFile = (place: SqlitePlace) => at(place, `building-${process.pid}-${random()}`);
export const testFile = (place: SqlitePlace) => at(place, `test-${process.pid}-${random()}`);
/** A SQLite database used only for its write lock: the OS releases it when the holder dies, so no lock goes stale. */
export const lockFile = (place: SqlitePlace) => at(place, 'lock');

/** The companions SQLite may create beside a database file. */
export const COMPANIONS = ['', '-wal', '-shm', '-journal'];

/** Parses a file name in `place`; `undefined` for anything the tool did not name. */
export function parsePlaced(place: SqlitePlace, name: string): PlacedFile | undefined {
  const prefix = `${place.base}.sqlh-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  const template = /^template-([0-9a-f]{8})-([0-9a-f]{16})\.db$/.exec(rest);
  if (template) return { kind: 'template', file: join(place.folder, name), source: template[1]!, hash: template[2]! };
  const made = /^(building|test)-(\d+)-[0-9a-f]{10}\.db$/.exec(rest);
  if (made) return { kind: made[1] as 'building' | 'test', file: join(place.folder, name), pid: Number(made[2]) };
  return undefined;
}
