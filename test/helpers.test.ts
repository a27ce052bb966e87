import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ConfigurationError,
  DatabaseManager,
  InvalidIdentifierError,
  MissingUniqueConstraintError,
  MultipleResultsFound,
  NoResultFound,
  SqlHelpersError,
  UndefinedColumnError,
  existsInDb,
  getByPk,
  getOne,
  getOrCreate,
  identifier,
  raw,
  sql,
  table,
  updateOrCreate,
  Session,
  type Sql,
} from '../lib/index.js';
import { dialects, fixtureMigrations, migratedDatabase, type TestDatabase } from './support.js';

interface User {
  id: number;
  email: string;
  name: string | null;
  login_count: number;
  created_via: string | null;
}

interface Membership {
  user_id: number;
  group_id: number;
  role: string | null;
}

interface Note {
  id: number;
  label: string | null;
  tag: string | null;
}

// A table and columns whose names need quoting, with characters an unquoted or badly quoted name would break on.
const WEIRD_TABLE = 'we"ird; table';
const WEIRD_KEY = 'ñame';
const WEIRD_DATA = 'da"ta; --';
const INJECTION = "'); DROP TABLE users; --";

/**
 * The schema every suite works on (test/fixtures/migrations/helpers): users, memberships, notes, a table and
 * columns whose names need quoting, and `items` (on PostgreSQL in a second schema that is not on the search path).
 */
const MIGRATIONS = fixtureMigrations('helpers');
const AUX = 'aux';

const users = table<User>('users', { primaryKey: 'id' });
const memberships = table<Membership, 'user_id' | 'group_id'>('memberships', { primaryKey: ['user_id', 'group_id'] });
const notes = table<Note>('notes', { primaryKey: 'id' });

/** Asserts that `promise` rejects with an instance of `type` whose `code` is `code`; returns the error. */
async function rejectsWith<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
  code?: string,
): Promise<E> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof type, `expected ${type.name}, got ${String(caught)}`);
  if (code !== undefined) assert.equal((caught as unknown as SqlHelpersError).code, code);
  return caught;
}

describe('table()', () => {
  it('describes plain, qualified and schema-option names, and quotes them', () => {
    const plain = table('users', { primaryKey: 'id' });
    assert.equal(plain.name, 'users');
    assert.equal(plain.schema, undefined);
    assert.equal(plain.ref.sql, '"users"');
    assert.deepEqual(plain.primaryKey, ['id']);
    const qualified = table('app.users', { primaryKey: ['a', 'b'] });
    assert.equal(qualified.schema, 'app');
    assert.equal(qualified.name, 'users');
    assert.equal(qualified.ref.sql, '"app"."users"');
    const option = table('my.table', { primaryKey: 'id', schema: 'app' });
    assert.equal(option.ref.sql, '"app"."my.table"');
    assert.equal(table(WEIRD_TABLE, { primaryKey: 'id' }).ref.sql, '"we""ird; table"');
  });

  it('refuses names PostgreSQL would truncate (over 63 bytes), empty keys and too many dots', () => {
    assert.throws(() => table('x'.repeat(64), { primaryKey: 'id' }), InvalidIdentifierError);
    // 32 two-byte characters are 64 bytes: refused although only 32 characters long.
    assert.throws(() => table('ñ'.repeat(32), { primaryKey: 'id' }), /longer than 63 bytes/);
    assert.equal(table('ñ'.repeat(31), { primaryKey: 'id' }).name, 'ñ'.repeat(31));
    assert.throws(() => table('t', { primaryKey: 'k'.repeat(64) }), InvalidIdentifierError);
    assert.throws(() => table('t', { primaryKey: [] }), (error: unknown) => error instanceof ConfigurationError && error.code === 'INVALID_TABLE');
    assert.throws(() => table('a.b.c', { primaryKey: 'id' }), (error: unknown) => error instanceof ConfigurationError && error.code === 'INVALID_TABLE');
    assert.throws(() => table('', { primaryKey: 'id' }), InvalidIdentifierError);
  });
});

for (const dialect of dialects) {
  describe(`helpers on ${dialect}`, () => {
    let database: TestDatabase;
    let db: DatabaseManager;
    const aux = AUX;
    const items = table<{ id: number; code: string; qty: number | null }>(dialect === 'postgres' ? `${aux}.items` : 'main.items', { primaryKey: 'id' });

    before(async () => {
      database = await migratedDatabase(dialect, MIGRATIONS);
      db = new DatabaseManager(database.uri, MIGRATIONS, database.options);
    });
    after(async () => {
      await db.close();
      await database.cleanup();
    });

    const countWhere = async (model: { ref: Sql }, where: Sql) =>
      Number((await db.one<{ n: number | string }>(sql`SELECT count(*) AS n FROM ${model.ref} WHERE ${where}`)).n);

    it('getByPk: a single key as a value or { id }; null when absent', async () => {
      const [alice] = await getOrCreate(db, users, { email: 'pk-alice@example.com' }, { defaults: { name: 'Alice' } });
      const byValue = await getByPk(alice.id, { session: db, model: users });
      assert.deepEqual(byValue, alice);
      assert.deepEqual(await getByPk({ id: alice.id }, { session: db, model: users }), alice);
      assert.equal(await getByPk(alice.id + 1000, { session: db, model: users }), null);
      assert.equal(await getByPk({ id: -1 }, { session: db, model: users }), null);
    });

    it('getByPk: a composite key as an object or an array, in key order', async () => {
      await db.execute(sql`INSERT INTO memberships (user_id, group_id, role) VALUES (${1}, ${2}, ${'admin'}), (${2}, ${1}, ${'member'})`);
      assert.deepEqual(await getByPk({ user_id: 1, group_id: 2 }, { session: db, model: memberships }), { user_id: 1, group_id: 2, role: 'admin' });
      assert.deepEqual(await getByPk({ group_id: 2, user_id: 1 }, { session: db, model: memberships }), { user_id: 1, group_id: 2, role: 'admin' });
      assert.deepEqual(await getByPk([2, 1], { session: db, model: memberships }), { user_id: 2, group_id: 1, role: 'member' });
      assert.equal(await getByPk([3, 3], { session: db, model: memberships }), null);
    });

    it('getByPk: a key of the wrong shape is an INVALID_PRIMARY_KEY ConfigurationError, before any query', async () => {
      const wrongSingle: unknown[] = [null, undefined, { email: 'x' }, { id: 1, email: 'x' }, {}, [1, 2], { id: null }];
      for (const pk of wrongSingle) {
        const error = await rejectsWith(getByPk(pk as never, { session: db, model: users }), ConfigurationError, 'INVALID_PRIMARY_KEY');
        assert.match(error.message, /primary key of users must be/);
      }
      const wrongComposite: unknown[] = [1, [1], [1, 2, 3], { user_id: 1 }, { user_id: 1, group_id: 2, role: 'x' }, { user_id: 1, group_id: null }, null];
      for (const pk of wrongComposite) {
        const error = await rejectsWith(getByPk(pk as never, { session: db, model: memberships }), ConfigurationError, 'INVALID_PRIMARY_KEY');
        assert.match(error.message, /user_id, group_id/);
      }
    });

    it('getOne: the one row, NoResultFound, MultipleResultsFound; null matches IS NULL', async () => {
      await db.execute(sql`INSERT INTO notes (label, tag) VALUES (${'one'}, ${'t'}), (${'dup'}, ${null}), (${'dup'}, ${null}), (${'nulltag'}, ${null})`);
      const one = await getOne(db, notes, { label: 'one' });
      assert.equal(one.tag, 't');
      await rejectsWith(getOne(db, notes, { label: 'none' }), NoResultFound, 'NO_RESULT_FOUND');
      await rejectsWith(getOne(db, notes, { label: 'dup' }), MultipleResultsFound, 'MULTIPLE_RESULTS_FOUND');
      // `tag = NULL` would match nothing; IS NULL matches the row.
      assert.equal((await getOne(db, notes, { label: 'nulltag', tag: null })).label, 'nulltag');
      await rejectsWith(getOne(db, notes, { label: 'one', tag: null }), NoResultFound);
      // undefined values are left out, as if not given.
      assert.equal((await getOne(db, notes, { label: 'one', tag: undefined })).tag, 't');
      await rejectsWith(getOne(db, notes, {}), ConfigurationError, 'EMPTY_ATTRS');
      const unknown = await rejectsWith(getOne(db, notes, { nope: 1 } as never), UndefinedColumnError, 'UNDEFINED_COLUMN');
      assert.match(unknown.message, /getOne on notes/);
      assert.match(unknown.message, /nope/);
    });

    it('getOrCreate: creates once with defaults, then finds the same row without them', async () => {
      const [created, wasCreated] = await getOrCreate(db, users, { email: 'goc@example.com' }, { defaults: { name: 'First', created_via: 'goc' } });
      assert.equal(wasCreated, true);
      assert.equal(created.email, 'goc@example.com');
      assert.equal(created.name, 'First');
      assert.equal(created.created_via, 'goc');
      assert.equal(created.login_count, 0, 'RETURNING * gives the database defaults too');
      assert.equal(typeof created.id, 'number');

      const [found, wasCreatedAgain] = await getOrCreate(db, users, { email: 'goc@example.com' }, { defaults: { name: 'Second', created_via: 'other' } });
      assert.equal(wasCreatedAgain, false);
      assert.deepEqual(found, created, 'defaults are ignored when the row exists');
      assert.equal(await countWhere(users, sql`email = ${'goc@example.com'}`), 1);

      // Composite attrs covered by the composite primary key.
      const [membership, membershipCreated] = await getOrCreate(db, memberships, { user_id: 7, group_id: 8 }, { defaults: { role: 'owner' } });
      assert.deepEqual([membership, membershipCreated], [{ user_id: 7, group_id: 8, role: 'owner' }, true]);
      assert.deepEqual(await getOrCreate(db, memberships, { user_id: 7, group_id: 8 }, { defaults: { role: 'x' } }), [membership, false]);
    });

    it('getOrCreate: a defaults function is called only when creating, and once', async () => {
      let calls = 0;
      const defaults = () => {
        calls++;
        return { name: `made ${calls}` };
      };
      const [row, created] = await getOrCreate(db, users, { email: 'fn@example.com' }, { defaults });
      assert.equal(created, true);
      assert.equal(row.name, 'made 1');
      assert.equal(calls, 1);
      const [again, createdAgain] = await getOrCreate(db, users, { email: 'fn@example.com' }, { defaults });
      assert.equal(createdAgain, false);
      assert.equal(again.id, row.id);
      assert.equal(calls, 1, 'not called when the row exists');
      // Overlap in what the function returns is refused too, when it is called.
      await rejectsWith(
        getOrCreate(db, users, { email: 'fn2@example.com' }, { defaults: () => ({ email: 'other@example.com' }) }),
        ConfigurationError,
        'ATTRS_DEFAULTS_OVERLAP',
      );
      assert.equal(await countWhere(users, sql`email IN (${'fn2@example.com'}, ${'other@example.com'})`), 0);
    });

    it('getOrCreate: refuses overlapping defaults, empty attrs and non-object attrs before touching the database', async () => {
      const overlap = await rejectsWith(
        getOrCreate(db, users, { email: 'o@example.com' }, { defaults: { email: 'p@example.com', name: 'n' } }),
        ConfigurationError,
        'ATTRS_DEFAULTS_OVERLAP',
      );
      assert.match(overlap.message, /email/);
      await rejectsWith(getOrCreate(db, users, {}), ConfigurationError, 'EMPTY_ATTRS');
      await rejectsWith(getOrCreate(db, users, { email: undefined }), ConfigurationError, 'EMPTY_ATTRS');
      await rejectsWith(getOrCreate(db, users, null as never), ConfigurationError, 'INVALID_ATTRS');
      await rejectsWith(getOrCreate(db, users, [] as never), ConfigurationError, 'INVALID_ATTRS');
      await rejectsWith(getOrCreate(db, users, { ['c'.repeat(64)]: 1 } as never), InvalidIdentifierError);
      assert.equal(await countWhere(users, sql`email IN (${'o@example.com'}, ${'p@example.com'})`), 0);
    });

    it('getOrCreate: an unknown column, in attrs or in defaults, is an UndefinedColumnError naming helper, table and column', async () => {
      const inAttrs = await rejectsWith(getOrCreate(db, users, { nope: 'x' } as never), UndefinedColumnError, 'UNDEFINED_COLUMN');
      assert.match(inAttrs.message, /^getOrCreate on users: /);
      assert.match(inAttrs.message, /nope/);
      assert.match(inAttrs.message, /check the column names/);
      assert.ok(inAttrs.cause instanceof UndefinedColumnError, 'keeps the mapped driver error as cause');
      const inDefaults = await rejectsWith(
        getOrCreate(db, users, { email: 'unknown-default@example.com' }, { defaults: { nope: 'x' } as never }),
        UndefinedColumnError,
      );
      assert.match(inDefaults.message, /getOrCreate on users: .*nope/);
      assert.equal(await countWhere(users, sql`email = ${'unknown-default@example.com'}`), 0);
    });

    it('getOrCreate: attrs no unique constraint covers are a MissingUniqueConstraintError saying to add a unique index', async () => {
      const error = await rejectsWith(getOrCreate(db, notes, { label: 'no-unique' }), MissingUniqueConstraintError, 'NO_UNIQUE_CONSTRAINT');
      assert.match(error.message, /getOrCreate on notes needs a unique constraint or index on exactly \(label\)/);
      assert.match(error.message, /CREATE UNIQUE INDEX ON notes \(label\)/);
      assert.equal(await countWhere(notes, sql`label = ${'no-unique'}`), 0, 'nothing was inserted');
      // A superset of a unique key is not covered "exactly" either: ON CONFLICT needs the exact columns.
      const superset = await rejectsWith(
        getOrCreate(db, users, { email: 'superset@example.com', name: 'S' }),
        MissingUniqueConstraintError,
      );
      assert.match(superset.message, /\(email, name\)/);
      // updateOrCreate says the same.
      const upsert = await rejectsWith(updateOrCreate(db, notes, { label: 'no-unique' }, { defaults: { tag: 'x' } }), MissingUniqueConstraintError);
      assert.match(upsert.message, /^updateOrCreate on notes .*add one/);
    });

    it('getOrCreate: pre-existing duplicates are MultipleResultsFound, not an arbitrary pick', async () => {
      // Two NULLs under a unique index: the one way to duplicates where a unique constraint covers attrs.
      const autoId = dialect === 'postgres' ? 'id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY' : 'id INTEGER PRIMARY KEY';
      await db.execute(sql`CREATE TABLE nullable_unique (${raw(autoId)}, label TEXT UNIQUE, tag TEXT)`);
      const nullableUnique = table<Note>('nullable_unique', { primaryKey: 'id' });
      await db.execute(sql`INSERT INTO nullable_unique (label, tag) VALUES (${null}, ${'a'}), (${null}, ${'b'})`);
      await rejectsWith(getOrCreate(db, nullableUnique, { label: null }), MultipleResultsFound, 'MULTIPLE_RESULTS_FOUND');
      await rejectsWith(getOrCreate(db, nullableUnique, { label: null }, { defaults: () => ({ tag: 'c' }) }), MultipleResultsFound);
      assert.equal(await countWhere(nullableUnique, sql`label IS NULL`), 2, 'nothing inserted');
      await db.execute(sql`INSERT INTO notes (label, tag) VALUES (${'twin'}, ${'a'}), (${'twin'}, ${'b'})`);
      // Without a unique constraint on (label): PostgreSQL's one statement names the conflict target on every
      // call, so it refuses whether or not rows exist; SQLite (and a defaults function) look first.
      // (Through a transaction pooler, PostgreSQL looks first too.)
      if (Session.driverOf(db).findOrInsertInOneStatement) {
        await rejectsWith(getOrCreate(db, notes, { label: 'twin' }), MissingUniqueConstraintError, 'NO_UNIQUE_CONSTRAINT');
      }
      else await rejectsWith(getOrCreate(db, notes, { label: 'twin' }), MultipleResultsFound, 'MULTIPLE_RESULTS_FOUND');
      await rejectsWith(getOrCreate(db, notes, { label: 'twin' }, { defaults: () => ({}) }), MultipleResultsFound, 'MULTIPLE_RESULTS_FOUND');
      if (dialect === 'sqlite') {
        // updateOrCreate's SQLite path selects first, and refuses the same way.
        await rejectsWith(updateOrCreate(db, notes, { label: 'twin' }, { defaults: { tag: 'c' } }), MultipleResultsFound);
      }
      assert.equal(await countWhere(notes, sql`label = ${'twin'} AND tag IN (${'a'}, ${'b'})`), 2, 'both rows untouched');
    });

    it('getOrCreate: finding an existing row burns no id; the next created id follows on', async () => {
      const [first] = await getOrCreate(db, users, { email: 'seq-1@example.com' });
      for (let i = 0; i < 5; i++) {
        const [same, created] = await getOrCreate(db, users, { email: 'seq-1@example.com' }, { defaults: { name: 'ignored' } });
        assert.equal(created, false);
        assert.equal(same.id, first.id);
      }
      const [second, created] = await getOrCreate(db, users, { email: 'seq-2@example.com' });
      assert.equal(created, true);
      assert.equal(second.id, first.id + 1, 'no sequence value was used by the five lookups');
      if (dialect === 'postgres') {
        const { value } = await db.one<{ value: number }>(sql`SELECT last_value::integer AS value FROM pg_sequences WHERE schemaname = coalesce(${database.options.schema ?? null}, current_schema()) AND sequencename = ${'users_id_seq'}`);
        assert.equal(value, second.id);
      }
    });

    it('getOrCreate / updateOrCreate / getOne / getByPk: quoted identifiers and injection values round-trip unchanged', async () => {
      type WeirdRow = { id: number; 'ñame': string; 'da"ta; --': string | null };
      const weird = table<WeirdRow>(WEIRD_TABLE, { primaryKey: 'id' });
      const key = `${INJECTION} ñ "quoted" \\ back`;
      const data = `x'); DELETE FROM ${WEIRD_TABLE}; --`;
      const [row, created] = await getOrCreate(db, weird, { [WEIRD_KEY]: key }, { defaults: { [WEIRD_DATA]: data } });
      assert.equal(created, true);
      assert.equal(row[WEIRD_KEY], key);
      assert.equal(row[WEIRD_DATA], data);
      assert.deepEqual(await getOrCreate(db, weird, { [WEIRD_KEY]: key }), [row, false]);
      assert.deepEqual(await getOne(db, weird, { [WEIRD_KEY]: key, [WEIRD_DATA]: data }), row);
      assert.deepEqual(await getByPk(row.id, { session: db, model: weird }), row);
      const [updated, updatedCreated] = await updateOrCreate(db, weird, { [WEIRD_KEY]: key }, { defaults: { [WEIRD_DATA]: INJECTION } });
      assert.equal(updatedCreated, false);
      assert.deepEqual(updated, { ...row, [WEIRD_DATA]: INJECTION });
      // The injection value is a user like any other, and users survived.
      const [injected, injectedCreated] = await getOrCreate(db, users, { email: INJECTION }, { defaults: { name: INJECTION } });
      assert.equal(injectedCreated, true);
      assert.deepEqual([injected.email, injected.name], [INJECTION, INJECTION]);
      assert.equal(await existsInDb(db, 'users'), true);
      assert.equal(await existsInDb(db, WEIRD_TABLE, WEIRD_KEY), true);
      assert.equal(await countWhere(weird, sql`${identifier(WEIRD_KEY)} = ${key}`), 1);
    });

    it('updateOrCreate: creates, then updates; defaults on both paths, createDefaults only on create', async () => {
      const [created, wasCreated] = await updateOrCreate(
        db,
        users,
        { email: 'uoc@example.com' },
        { defaults: { name: 'One', login_count: 1 }, createDefaults: { created_via: 'signup' } },
      );
      assert.equal(wasCreated, true);
      assert.deepEqual({ ...created, id: 0 }, { id: 0, email: 'uoc@example.com', name: 'One', login_count: 1, created_via: 'signup' });
      assert.equal(Object.hasOwn(created, 'sql_helpers_inserted'), false, 'the inserted flag does not leak into the row');

      let calls = 0;
      const [updated, wasCreatedAgain] = await updateOrCreate(
        db,
        users,
        { email: 'uoc@example.com' },
        {
          defaults: { name: 'Two', login_count: 2 },
          createDefaults: () => {
            calls++;
            return { created_via: 'import' };
          },
        },
      );
      assert.equal(wasCreatedAgain, false);
      assert.equal(updated.id, created.id);
      assert.equal(updated.name, 'Two');
      assert.equal(updated.login_count, 2);
      assert.equal(updated.created_via, 'signup', 'createDefaults are not applied to an existing row');
      assert.ok(calls <= 1, 'a createDefaults function is called at most once');
      assert.deepEqual(await getByPk(created.id, { session: db, model: users }), updated);

      // With nothing to update, the existing row comes back unchanged and created is false.
      assert.deepEqual(await updateOrCreate(db, users, { email: 'uoc@example.com' }), [updated, false]);
      // A key in both defaults and createDefaults: defaults win, on create as on update.
      const [both, bothCreated] = await updateOrCreate(db, users, { email: 'uoc2@example.com' }, { defaults: { name: 'D' }, createDefaults: { name: 'C', created_via: 'c' } });
      assert.equal(bothCreated, true);
      assert.deepEqual([both.name, both.created_via], ['D', 'c']);
      // Composite key, and null written through defaults.
      assert.deepEqual(await updateOrCreate(db, memberships, { user_id: 40, group_id: 41 }, { defaults: { role: 'a' } }), [{ user_id: 40, group_id: 41, role: 'a' }, true]);
      assert.deepEqual(await updateOrCreate(db, memberships, { user_id: 40, group_id: 41 }, { defaults: { role: null } }), [{ user_id: 40, group_id: 41, role: null }, false]);
      assert.equal(await countWhere(memberships, sql`user_id = ${40}`), 1);

      await rejectsWith(updateOrCreate(db, users, { email: 'x@example.com' }, { defaults: { email: 'y@example.com' } }), ConfigurationError, 'ATTRS_DEFAULTS_OVERLAP');
      await rejectsWith(updateOrCreate(db, users, { email: 'x@example.com' }, { createDefaults: { email: 'y@example.com' } }), ConfigurationError, 'ATTRS_DEFAULTS_OVERLAP');
      // Checked even when the row exists and createDefaults would not be used.
      await rejectsWith(updateOrCreate(db, users, { email: 'uoc@example.com' }, { createDefaults: { email: 'y@example.com' } }), ConfigurationError, 'ATTRS_DEFAULTS_OVERLAP');
      await rejectsWith(updateOrCreate(db, users, {}), ConfigurationError, 'EMPTY_ATTRS');
      const unknown = await rejectsWith(updateOrCreate(db, users, { email: 'x@example.com' }, { defaults: { nope: 1 } as never }), UndefinedColumnError);
      assert.match(unknown.message, /^updateOrCreate on users: .*nope/);
      assert.equal(await countWhere(users, sql`email = ${'x@example.com'}`), 0);
    });

    it('helpers work on a schema-qualified table', async () => {
      const [row, created] = await getOrCreate(db, items, { code: 'A-1' }, { defaults: { qty: 3 } });
      assert.equal(created, true);
      assert.deepEqual(await getOrCreate(db, items, { code: 'A-1' }), [row, false]);
      assert.deepEqual(await getByPk(row.id, { session: db, model: items }), row);
      assert.deepEqual(await updateOrCreate(db, items, { code: 'A-1' }, { defaults: { qty: 4 } }), [{ ...row, qty: 4 }, false]);
      if (dialect === 'postgres') {
        // The aux schema is not on the search path: only the qualified name reaches the table.
        assert.equal(items.schema, aux);
        const unqualified = table<Record<string, unknown>>('items', { primaryKey: 'id' });
        await assert.rejects(getOne(db, unqualified, { code: 'A-1' }), /items/);
      }
    });

    it('existsInDb: tables, columns, missing ones, qualified names', async () => {
      assert.equal(await existsInDb(db, 'users'), true);
      assert.equal(await existsInDb(db, 'users', 'email'), true);
      assert.equal(await existsInDb(db, 'users', 'nope'), false);
      assert.equal(await existsInDb(db, 'nope'), false);
      assert.equal(await existsInDb(db, 'nope', 'email'), false);
      assert.equal(await existsInDb(db, 'Users'), false, 'names are exact, not case-folded');
      assert.equal(await existsInDb(db, WEIRD_TABLE), true);
      assert.equal(await existsInDb(db, WEIRD_TABLE, WEIRD_DATA), true);
      assert.equal(await existsInDb(db, 'users', WEIRD_DATA), false);
      if (dialect === 'postgres') {
        const schema = database.options.schema ?? 'public';
        assert.equal(await existsInDb(db, `${schema}.users`), true);
        assert.equal(await existsInDb(db, `${aux}.items`), true);
        assert.equal(await existsInDb(db, `${aux}.items`, 'qty'), true);
        assert.equal(await existsInDb(db, `${aux}.items`, 'email'), false);
        assert.equal(await existsInDb(db, `${aux}.users`), false);
        assert.equal(await existsInDb(db, 'items'), false, 'the aux schema is not on the search path');
        assert.equal(await existsInDb(db, 'no_such_schema.users'), false);
      } else {
        assert.equal(await existsInDb(db, 'main.users'), true);
        assert.equal(await existsInDb(db, 'main.items', 'qty'), true);
        assert.equal(await existsInDb(db, 'main.nope'), false);
      }
      await assert.rejects(existsInDb(db, 'x'.repeat(64)), InvalidIdentifierError);
      await assert.rejects(existsInDb(db, 'users', 'x'.repeat(64)), InvalidIdentifierError);
    });

    it('row types flow from table<Row> to the results (compile-time)', async () => {
      const [row, created] = await getOrCreate(db, users, { email: 'typed@example.com' });
      const email: string = row.email;
      const name: string | null = row.name;
      const flag: boolean = created;
      const found: User | null = await getByPk(row.id, { session: db, model: users });
      const one: User = await getOne(db, users, { email });
      const [upserted]: [User, boolean] = await updateOrCreate(db, users, { email }, { defaults: { name: 'T' } });
      // @ts-expect-error: no such column on User
      void row.nope;
      // @ts-expect-error: attrs only take User's columns
      await assert.rejects(getOrCreate(db, users, { nope: 1 }), UndefinedColumnError);
      // @ts-expect-error: and values of the column's type
      await assert.rejects(getOne(db, users, { email: 42 }), NoResultFound);
      // @ts-expect-error: the primary key must be a column of the row type
      table<User>('users', { primaryKey: 'nope' });
      assert.deepEqual([email, name, flag, found?.id, one.id, upserted.name], ['typed@example.com', null, true, row.id, row.id, 'T']);
    });

    it('every helper takes a transaction as its session; a rollback undoes what it created', async () => {
      const [row, created] = await db.transaction((tx) => getOrCreate(tx, users, { email: 'tx@example.com' }, { defaults: { name: 'Tx' } }));
      assert.equal(created, true);
      assert.deepEqual(await getByPk(row.id, { session: db, model: users }), row);
      await db.transaction(async (tx) => {
        assert.deepEqual(await getOrCreate(tx, users, { email: 'tx@example.com' }), [row, false]);
        assert.deepEqual(await getByPk(row.id, { session: tx, model: users }), row);
        assert.deepEqual(await getOne(tx, users, { email: 'tx@example.com' }), row);
        const [updated, updatedCreated] = await updateOrCreate(tx, users, { email: 'tx@example.com' }, { defaults: { login_count: 9 } });
        assert.deepEqual([updated.login_count, updatedCreated], [9, false]);
        assert.equal(await existsInDb(tx, 'users', 'login_count'), true);
        // Nested: a savepoint.
        const [inner, innerCreated] = await tx.transaction((nested) => updateOrCreate(nested, users, { email: 'tx-inner@example.com' }, { defaults: { name: 'In' } }));
        assert.deepEqual([inner.name, innerCreated], ['In', true]);
      });
      assert.equal((await getOne(db, users, { email: 'tx@example.com' })).login_count, 9);
      assert.equal((await getOne(db, users, { email: 'tx-inner@example.com' })).name, 'In');

      class Abort extends Error {}
      let createdInside: User | undefined;
      await assert.rejects(
        db.transaction(async (tx) => {
          [createdInside] = await getOrCreate(tx, users, { email: 'tx-rolled-back@example.com' });
          [createdInside] = await updateOrCreate(tx, users, { email: 'tx-rolled-back@example.com' }, { defaults: { name: 'gone' } });
          // Inside the transaction, the row is there.
          assert.equal((await getOne(tx, users, { email: 'tx-rolled-back@example.com' })).name, 'gone');
          throw new Abort();
        }),
        Abort,
      );
      assert.ok(createdInside);
      assert.equal(await getByPk(createdInside.id, { session: db, model: users }), null);
      await rejectsWith(getOne(db, users, { email: 'tx-rolled-back@example.com' }), NoResultFound);
      // A helper error inside a transaction rolls back the whole unit of work.
      await assert.rejects(
        db.transaction(async (tx: Session) => {
          await getOrCreate(tx, users, { email: 'tx-partial@example.com' });
          await getOrCreate(tx, notes, { label: 'no unique here' });
        }),
        MissingUniqueConstraintError,
      );
      assert.equal(await countWhere(users, sql`email = ${'tx-partial@example.com'}`), 0);
    });
  });
}
