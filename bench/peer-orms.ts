// The query libraries a user would pick instead of the helpers, each writing getOrCreate and getOne the way its
// documentation shows: select; when nothing is found, `INSERT … ON CONFLICT DO NOTHING RETURNING *`; when that
// returns nothing (another caller won), select again. Same driver (pg / better-sqlite3) and pool size as ours.
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { integer as sqliteInteger, sqliteTable, text as sqliteText } from 'drizzle-orm/sqlite-core';
import knexFactory from 'knex';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';

export interface Item {
  id: number;
  key: string;
  value: string | null;
}

/** One peer: getOrCreate and getOne on `bench_items`, and a way to close its pool or file. */
export interface Peer {
  name: string;
  getOrCreate(key: string, value: string): Promise<[Item, boolean]>;
  getOne(key: string): Promise<Item>;
  close(): Promise<void>;
}

/** The documented pattern, given a select that may find nothing and an insert that may conflict. */
async function pattern(select: () => Promise<Item | undefined>, insert: () => Promise<Item | undefined>): Promise<[Item, boolean]> {
  const found = await select();
  if (found !== undefined) return [found, false];
  const inserted = await insert();
  if (inserted !== undefined) return [inserted, true];
  const winner = await select();
  if (winner === undefined) throw new Error('the row vanished');
  return [winner, false];
}

const orThrow = (row: Item | undefined): Item => {
  if (row === undefined) throw new Error('no row');
  return row;
};

interface KyselyDb {
  bench_items: { id: number; key: string; value: string | null };
}

type Connect = { dialect: 'postgres'; url: string; max: number } | { dialect: 'sqlite'; file: string };

export function kysely(connect: Connect): Peer {
  const dialect =
    connect.dialect === 'postgres'
      ? new PostgresDialect({ pool: new pg.Pool({ connectionString: connect.url, max: connect.max }) })
      : new SqliteDialect({ database: new Database(connect.file) });
  // Kysely types inserts by the table's columns; `id` is generated.
  const db = new Kysely<{ bench_items: Omit<KyselyDb['bench_items'], 'id'> & { id?: number } }>({ dialect });
  const select = (key: string) => db.selectFrom('bench_items').selectAll().where('key', '=', key).executeTakeFirst() as Promise<Item | undefined>;
  return {
    name: 'Kysely',
    getOrCreate: (key, value) =>
      pattern(
        () => select(key),
        () =>
          db
            .insertInto('bench_items')
            .values({ key, value })
            .onConflict((conflict) => conflict.column('key').doNothing())
            .returningAll()
            .executeTakeFirst() as Promise<Item | undefined>,
      ),
    getOne: (key) => db.selectFrom('bench_items').selectAll().where('key', '=', key).executeTakeFirstOrThrow() as Promise<Item>,
    close: () => db.destroy(),
  };
}

export function drizzle(connect: Connect): Peer {
  if (connect.dialect === 'postgres') {
    const items = pgTable('bench_items', { id: serial('id').primaryKey(), key: text('key').notNull().unique(), value: text('value') });
    const pool = new pg.Pool({ connectionString: connect.url, max: connect.max });
    const db = drizzlePg(pool);
    const select = async (key: string) => (await db.select().from(items).where(eq(items.key, key)).limit(1))[0];
    return {
      name: 'Drizzle',
      getOrCreate: (key, value) =>
        pattern(
          () => select(key),
          async () => (await db.insert(items).values({ key, value }).onConflictDoNothing({ target: items.key }).returning())[0],
        ),
      getOne: async (key) => orThrow(await select(key)),
      close: () => pool.end(),
    };
  }
  const items = sqliteTable('bench_items', { id: sqliteInteger('id').primaryKey(), key: sqliteText('key').notNull().unique(), value: sqliteText('value') });
  const sqlite = new Database(connect.file);
  const db = drizzleSqlite(sqlite);
  // better-sqlite3 is synchronous: Drizzle's documented `.get()` runs at once; awaiting it is what an async service does.
  const select = async (key: string) => db.select().from(items).where(eq(items.key, key)).get();
  return {
    name: 'Drizzle',
    getOrCreate: (key, value) =>
      pattern(
        () => select(key),
        async () => db.insert(items).values({ key, value }).onConflictDoNothing({ target: items.key }).returning().get(),
      ),
    getOne: async (key) => orThrow(await select(key)),
    close: async () => void sqlite.close(),
  };
}

export function knex(connect: Connect): Peer {
  const db =
    connect.dialect === 'postgres'
      ? knexFactory({ client: 'pg', connection: connect.url, pool: { min: 0, max: connect.max } })
      : knexFactory({ client: 'better-sqlite3', connection: { filename: connect.file }, useNullAsDefault: true });
  const select = (key: string) => db<Item>('bench_items').where({ key }).first() as Promise<Item | undefined>;
  return {
    name: 'knex',
    getOrCreate: (key, value) =>
      pattern(
        () => select(key),
        async () => ((await db<Item>('bench_items').insert({ key, value }).onConflict('key').ignore().returning('*')) as Item[])[0],
      ),
    getOne: async (key) => orThrow(await select(key)),
    close: () => db.destroy(),
  };
}

export const PEERS = [kysely, drizzle, knex];
