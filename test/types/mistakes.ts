// Type tests: compiled by `tsc -p tsconfig.test.json` (npm test's pretest), never run. Each
// `@ts-expect-error` line is a mistake the types must catch (tsc fails if it compiles); every other line
// is a correct use that must compile.
import type BetterSqlite3 from 'better-sqlite3';
import type { Pool } from 'pg';
import {
  ConfigurationError,
  DatabaseManager,
  SqlHelpersError,
  UniqueViolationError,
  getByPk,
  getOne,
  getOrCreate,
  table,
  updateOrCreate,
  type Model,
} from '../../lib/index.js';

interface User {
  id: number;
  email: string;
  display_name: string | null;
}

interface Membership {
  user_id: number;
  group_id: number;
  role: 'member' | 'admin';
}

declare const db: DatabaseManager;

export const users = table<User>('users', { primaryKey: 'id' });
export const memberships = table<Membership, 'user_id' | 'group_id'>('memberships', { primaryKey: ['user_id', 'group_id'] });
users satisfies Model<User>;
memberships satisfies Model<Membership, 'user_id' | 'group_id'>;

// @ts-expect-error: the key is not `id`, so the key columns are named in the type too
table<Membership>('memberships', { primaryKey: ['user_id', 'group_id'] });
// @ts-expect-error: not a column
table<User>('users', { primaryKey: 'uid' });
// @ts-expect-error: a column, but not the one the type names as key
table<Membership, 'user_id' | 'group_id'>('memberships', { primaryKey: ['user_id', 'role'] });

export async function keys(): Promise<void> {
  const user = await getByPk(1, { session: db, model: users });
  user?.email satisfies string | undefined;
  await getByPk({ id: 1 }, { session: db, model: users });
  // @ts-expect-error: the key is a number
  await getByPk('not-a-number', { session: db, model: users });
  // @ts-expect-error: not a key column
  await getByPk({ nope: 1 }, { session: db, model: users });

  const membership = await getByPk({ user_id: 1, group_id: 2 }, { session: db, model: memberships });
  membership?.role satisfies 'member' | 'admin' | undefined;
  await getByPk([1, 2], { session: db, model: memberships });
  // @ts-expect-error: half a composite key
  await getByPk({ user_id: 1 }, { session: db, model: memberships });
  // @ts-expect-error: a composite key is not one value
  await getByPk(1, { session: db, model: memberships });
  // @ts-expect-error: a key column of the wrong type
  await getByPk({ user_id: '1', group_id: 2 }, { session: db, model: memberships });
}

export async function rows(): Promise<void> {
  const [row, created] = await getOrCreate(db, memberships, { user_id: 1, group_id: 2 }, { defaults: { role: 'admin' } });
  row.role satisfies 'member' | 'admin';
  created satisfies boolean;
  // @ts-expect-error: not a column of Membership
  void row.nope;
  // @ts-expect-error: not a value of role
  await getOrCreate(db, memberships, { user_id: 1, group_id: 2 }, { defaults: { role: 'owner' } });
  // @ts-expect-error: email is text
  await getOne(db, users, { email: 1 });
  // @ts-expect-error: not a column
  await getOne(db, users, { mail: 'a@example.com' });
  const [updated] = await updateOrCreate(db, users, { email: 'a@example.com' }, { defaults: { display_name: null } });
  updated.display_name satisfies string | null;

  // Without a row type: rows are Record<string, unknown>, never any.
  const loose = table('memberships', { primaryKey: ['user_id', 'group_id'] });
  const [looseRow] = await getOrCreate(db, loose, { user_id: 1, group_id: 2 }, { defaults: { role: 'admin' } });
  looseRow.role satisfies unknown;
  // @ts-expect-error: unknown, not any, so it must be checked before use
  looseRow.role.toUpperCase();
  await getByPk({ user_id: 1, group_id: 2 }, { session: db, model: loose });
  // @ts-expect-error: the loose key still has two columns
  await getByPk({ user_id: 1 }, { session: db, model: loose });
}

export function errors(error: unknown): void {
  if (error instanceof SqlHelpersError) {
    if (error.code === 'UNIQUE_VIOLATION') return;
    // @ts-expect-error: a typo in a code
    if (error.code === 'UNIQUE_VIOLATON') return;
  }
  if (error instanceof ConfigurationError) {
    if (error.code === 'INVALID_URI' || error.code === 'DRIVER_NOT_INSTALLED') return;
    // @ts-expect-error: a QueryError code cannot be a ConfigurationError's
    if (error.code === 'UNIQUE_VIOLATION') return;
  }
  if (error instanceof UniqueViolationError) error.code satisfies 'UNIQUE_VIOLATION';
}

export function engines(): void {
  const pg = new DatabaseManager('postgres://app@db/app', './sql', { engineArgs: { max: 20 } });
  pg.engine satisfies Pool;
  pg.dialect satisfies 'postgres';
  new DatabaseManager('postgresql://app@db/app', './sql').engine satisfies Pool;
  const lite = new DatabaseManager('sqlite::memory:', './sql', { engineArgs: { timeout: 1000 } });
  lite.engine satisfies BetterSqlite3.Database;
  lite.dialect satisfies 'sqlite';
  // @ts-expect-error: a better-sqlite3 Database is not a pg.Pool
  lite.engine satisfies Pool;
  // @ts-expect-error: an option neither driver takes
  new DatabaseManager('sqlite::memory:', './sql', { engineArgs: { nope: 1 } });

  // A URI from the environment could be either, until the type says which.
  const either = new DatabaseManager(process.env.DATABASE_URL ?? 'sqlite:./app.db', './sql');
  either.engine satisfies Pool | BetterSqlite3.Database;
  // @ts-expect-error: it might be SQLite
  either.engine satisfies Pool;
  new DatabaseManager<'postgres'>(process.env.DATABASE_URL ?? '', './sql', { engineArgs: { max: 5 } }).engine satisfies Pool;
  // @ts-expect-error: a pg option for a SQLite manager
  new DatabaseManager<'sqlite'>(process.env.DATABASE_URL ?? '', './sql', { engineArgs: { max: 5 } });
}
