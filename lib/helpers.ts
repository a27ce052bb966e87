import {
  ConfigurationError,
  MissingUniqueConstraintError,
  MultipleResultsFound,
  NoResultFound,
  QueryError,
  SqlHelpersError,
  UndefinedColumnError,
} from './errors.js';
import { Session } from './session.js';
import { Sql, identifier, join, raw, sharedShape, sql, type Shape, type ShapedSql } from './sql.js';

/** A table description: the seed's `model`. `Row` types the helpers' results, `Key` its primary-key columns. */
export interface Model<Row extends object = Record<string, unknown>, Key extends keyof Row & string = DefaultKey<Row>> {
  /** The table name, without schema. */
  readonly name: string;
  /** The schema, when the name was qualified. */
  readonly schema: string | undefined;
  /** The primary-key columns, in order. */
  readonly primaryKey: readonly Key[];
  /** The quoted, possibly qualified name, ready to interpolate into `sql`. */
  readonly ref: Sql;
}

type IsUnion<T, All = T> = T extends unknown ? ([All] extends [T] ? false : true) : never;

/**
 * What `getByPk` takes for a `Key` of `Row`: the key column's value for a one-column key, the key columns as
 * an object, or (composite keys) their values in key order.
 */
export type PrimaryKey<Row extends object, Key extends keyof Row & string> =
  | { readonly [K in Key]: NonNullable<Row[K]> }
  | (true extends IsUnion<Key> ? readonly NonNullable<Row[Key]>[] : NonNullable<Row[Key]>);

/** The key a `table<Row>()` without a second type argument gets: `id` when `Row` has one. */
export type DefaultKey<Row extends object> = 'id' extends keyof Row ? 'id' : never;

/** What the internals need of a model, whatever its row type. */
type TableInfo = Pick<Model, 'name' | 'schema' | 'ref'> & { readonly primaryKey: readonly string[] };

/** Column values to match or write; `null` matches `IS NULL`. */
export type Attrs<Row> = { [K in keyof Row]?: Row[K] | null };

/** Values used only when a row is created; a function is called only then. */
export type Defaults<Row> = Attrs<Row> | (() => Attrs<Row>);

/**
 * Describes a table: `table<User>('users', { primaryKey: 'id' })`. A key other than `id` is named in the
 * type too: `table<Membership, 'user_id' | 'group_id'>('memberships', { primaryKey: ['user_id', 'group_id'] })`.
 * A qualified name (`'app.users'`) or `schema` option names the schema.
 */
export function table<Row extends object = Record<string, unknown>, Key extends keyof Row & string = DefaultKey<Row>>(
  name: string,
  options: { primaryKey: Key | readonly Key[]; schema?: string },
): Model<Row, Key> {
  if (typeof name !== 'string') throw new ConfigurationError(`table() takes the table name as a string, got ${typeof name}`, { code: 'INVALID_TABLE' });
  const key = (options as { primaryKey?: unknown } | undefined)?.primaryKey;
  if (typeof key !== 'string' && !(Array.isArray(key) && key.every((column) => typeof column === 'string'))) {
    throw new ConfigurationError(
      `table(${JSON.stringify(name)}, …) needs { primaryKey: 'id' } or { primaryKey: ['a', 'b'] }: the primary-key column name(s) as strings`,
      { code: 'INVALID_TABLE' },
    );
  }
  const parts = options.schema !== undefined ? [options.schema, name] : name.split('.');
  if (parts.length > 2) throw new ConfigurationError(`table name ${JSON.stringify(name)} has more than one dot; use table(name, { schema })`, { code: 'INVALID_TABLE' });
  const primaryKey: Key[] = typeof options.primaryKey === 'string' ? [options.primaryKey] : [...(options.primaryKey as readonly Key[])];
  if (primaryKey.length === 0) throw new ConfigurationError(`table ${JSON.stringify(name)} needs at least one primary-key column`, { code: 'INVALID_TABLE' });
  primaryKey.forEach((column) => identifier(column));
  const ref = identifier(...parts);
  return Object.freeze({ name: parts.at(-1)!, schema: parts.length === 2 ? parts[0] : undefined, primaryKey: Object.freeze(primaryKey), ref });
}

const describeTable = (model: TableInfo) => (model.schema ? `${model.schema}.${model.name}` : model.name);

// The helpers take (session, model) in that order; a swapped or plain-string argument would fail deep inside
// with a bare TypeError, so both are checked first.
function checkArguments(helper: string, session: unknown, model: unknown): void {
  if (!(session instanceof Session)) {
    throw new ConfigurationError(`${helper} needs a session (the DatabaseManager or a transaction's tx) as its session argument, got ${describeArgument(session)}`, {
      code: 'INVALID_SESSION',
    });
  }
  if (typeof model !== 'object' || model === null || !((model as Partial<TableInfo>).ref instanceof Sql)) {
    throw new ConfigurationError(
      `${helper} needs a model made by table(), e.g. table('users', { primaryKey: 'id' }), got ${describeArgument(model)}`,
      { code: 'INVALID_MODEL' },
    );
  }
}

const describeArgument = (value: unknown) => (typeof value === 'string' ? `the string ${JSON.stringify(value)}` : value === null ? 'null' : typeof value);

function entriesOf(attrs: object, what: string, model: TableInfo): Array<[string, unknown]> {
  if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs)) {
    throw new ConfigurationError(`${what} for ${describeTable(model)} must be an object of column → value`, { code: 'INVALID_ATTRS' });
  }
  // Names are checked where they are quoted (once per statement shape), not here on every call.
  const entries: Array<[string, unknown]> = [];
  for (const column of Object.keys(attrs)) {
    const value = (attrs as Record<string, unknown>)[column];
    if (value !== undefined) entries.push([column, value]);
  }
  return entries;
}

// The helpers run the same few statement shapes again and again: per model, keep the rendered strings of each
// shape (which statement, which columns, which of them NULL), so a call only binds new values into them.
const statementShapes = new WeakMap<TableInfo, Map<string, Shape>>();
const SHAPES_PER_MODEL = 256;

/** The statement of shape `key` for `model`, with `values` bound: rendered by `build` the first time only. */
function shaped(model: TableInfo, key: string, values: unknown[], build: () => Sql): Sql {
  let shapes = statementShapes.get(model);
  if (shapes === undefined) statementShapes.set(model, (shapes = new Map()));
  const known = shapes.get(key);
  if (known !== undefined) return sharedShape(known, values);
  const built = build();
  const shape: Shape = { strings: built.strings, lookup: undefined };
  if (shapes.size >= SHAPES_PER_MODEL) shapes.clear();
  shapes.set(key, shape);
  return sharedShape(shape, built.values);
}

/**
 * The shape key of `entries` (column names, and which values are NULL), appending the non-NULL values to
 * `values`. Length-prefixed, so that no column name (not even one holding NUL, to be refused when quoted)
 * can spell another shape's key and skip the quoting that checks it.
 */
function shapeOf(entries: Array<[string, unknown]>, values: unknown[], withNulls: boolean): string {
  let key = '';
  for (const [column, value] of entries) {
    const nulled = withNulls && value === null;
    key += `${nulled ? 'n' : 'v'}${column.length}:${column}`;
    if (!nulled) values.push(value);
  }
  return key;
}

/**
 * The SELECTs' shapes, per model, as a tree: one level per matched column, in the caller's order, split by
 * value or IS NULL. Walking it compares interned property names, where a string key would be built and hashed
 * on every call: on SQLite that was a tenth of a getOne.
 */
interface SelectShape {
  byValue?: Map<string, SelectShape>;
  byNull?: Map<string, SelectShape>;
  all?: Shape;
  limited?: Shape;
}

const selectShapes = new WeakMap<TableInfo, { root: SelectShape; size: number }>();

function selectWhere(model: TableInfo, entries: Array<[string, unknown]>, suffix: 'LIMIT 2' | ''): ShapedSql {
  let tree = selectShapes.get(model);
  if (tree === undefined || tree.size >= SHAPES_PER_MODEL) selectShapes.set(model, (tree = { root: {}, size: 0 }));
  let node = tree.root;
  const values: unknown[] = [];
  for (let i = 0; i < entries.length; i++) {
    const [column, value] = entries[i]!;
    const branch = value === null ? (node.byNull ??= new Map()) : (node.byValue ??= new Map());
    let next = branch.get(column);
    if (next === undefined) {
      branch.set(column, (next = {}));
      tree.size++;
    }
    node = next;
    if (value !== null) values.push(value);
  }
  const known = suffix === '' ? node.all : node.limited;
  if (known !== undefined) return sharedShape(known, values);
  const built = sql`SELECT * FROM ${model.ref} WHERE ${whereOf(entries)} ${raw(suffix)}`;
  const equal = entries.filter(([, value]) => value !== null).map(([column]) => column);
  const shape: Shape = { strings: built.strings, lookup: { schema: model.schema, table: model.name, columns: equal } };
  if (suffix === '') node.all = shape;
  else node.limited = shape;
  return sharedShape(shape, built.values);
}

/**
 * getOrCreate in one statement: the row matching `entries`, else the row inserted from `entries` and `extra`,
 * with `flag` true for an inserted one. The INSERT runs only when the SELECT found nothing (so an existing row
 * uses no sequence value), and both read the statement's one snapshot: a row committed by a concurrent caller
 * after it is neither found nor inserted (ON CONFLICT DO NOTHING waits for that caller, then skips), and the
 * statement returns no row; only then does a second statement read the winner's row.
 */
function findOrInsert(model: TableInfo, entries: Array<[string, unknown]>, extra: Array<[string, unknown]>, flag: string): Sql {
  const values: unknown[] = [];
  const key = `find-or-insert ${flag}|${shapeOf(entries, values, true)}|${shapeOf([...entries, ...extra], values, false)}`;
  return shaped(model, key, values, () => {
    const inserted = [...entries, ...extra];
    const columns = columnList(inserted.map(([column]) => column));
    const flagged = identifier(flag);
    return sql`WITH found AS (SELECT * FROM ${model.ref} WHERE ${whereOf(entries)} LIMIT 2),
      inserted AS (INSERT INTO ${model.ref} (${columns}) SELECT ${join(inserted.map(([, value]) => sql`${value}`))}
        WHERE NOT EXISTS (SELECT FROM found) ON CONFLICT (${columnList(entries.map(([column]) => column))}) DO NOTHING RETURNING *)
      SELECT *, false AS ${flagged} FROM found UNION ALL SELECT *, true AS ${flagged} FROM inserted`;
  });
}

function whereOf(entries: Array<[string, unknown]>): Sql {
  return join(
    entries.map(([column, value]) => (value === null ? sql`${identifier(column)} IS NULL` : sql`${identifier(column)} = ${value}`)),
    ' AND ',
  );
}

function matchEntries(model: TableInfo, attrs: object, helper: string): Array<[string, unknown]> {
  const entries = entriesOf(attrs, 'attrs', model);
  if (entries.length === 0) {
    throw new ConfigurationError(`${helper} on ${describeTable(model)} needs at least one column in attrs`, { code: 'EMPTY_ATTRS' });
  }
  return entries;
}

// Adds which helper and table to the database's "column does not exist" or "no unique constraint" message.
function explained(error: unknown, helper: string, model: TableInfo, columns: string[]): unknown {
  if (error instanceof UndefinedColumnError && helper === 'updateOrCreate' && /"xmax"/.test(error.message)) {
    // Not the caller's columns: the upsert reads the system column xmax, which a view does not have.
    return new QueryError(
      `updateOrCreate on ${describeTable(model)}: it is a view (or another relation without system columns), and updateOrCreate ` +
        'needs a table to tell an insert from an update atomically; call it on the underlying table',
      { code: 'NOT_A_TABLE', cause: error, sqlState: error.sqlState },
    );
  }
  if (error instanceof UndefinedColumnError) {
    return new UndefinedColumnError(`${helper} on ${describeTable(model)}: ${error.message}; check the column names in attrs and defaults`, {
      cause: error,
      sqlState: error.sqlState,
    });
  }
  if (error instanceof MissingUniqueConstraintError) {
    return new MissingUniqueConstraintError(
      `${helper} on ${describeTable(model)} needs a unique constraint or index on exactly (${columns.join(', ')}) to be atomic; ` +
        `add one (CREATE UNIQUE INDEX ON ${describeTable(model)} (${columns.join(', ')})) or match on the columns of an existing one`,
      { cause: error, sqlState: error.sqlState },
    );
  }
  return error;
}

function tooMany(model: TableInfo, columns: string[]): MultipleResultsFound {
  return new MultipleResultsFound(`more than one row of ${describeTable(model)} matches (${columns.join(', ')})`);
}

/** `"a", "b"`: quoted column names for a column list or a conflict target. */
function columnList(columns: string[]): Sql {
  return join(columns.map((column) => identifier(column)));
}

function wrongPrimaryKey(model: TableInfo, pk: unknown): ConfigurationError {
  const columns = model.primaryKey;
  const shape = columns.length === 1 ? `a value or { ${columns[0]} }` : `{ ${columns.join(', ')} } or [${columns.join(', ')}]`;
  return new ConfigurationError(`primary key of ${describeTable(model)} must be ${shape}; got ${JSON.stringify(pk) ?? String(pk)}`, {
    code: 'INVALID_PRIMARY_KEY',
  });
}

/** The values of `pk` in key-column order: a value for a one-column key, else an object or an array. */
function primaryKeyValues(model: TableInfo, pk: unknown): unknown[] {
  const columns = model.primaryKey;
  let values: unknown[];
  // A copy, as the query holds its values until it runs (maybe after the caller's next statement); a hole in it
  // becomes the undefined it reads as, refused below like one written out.
  if (Array.isArray(pk)) values = Array.from(pk as unknown[]);
  else if (pk !== null && typeof pk === 'object' && !(pk instanceof Date) && !Buffer.isBuffer(pk)) {
    const record = pk as Record<string, unknown>;
    if (Object.keys(record).some((key) => !columns.includes(key))) throw wrongPrimaryKey(model, pk);
    values = columns.map((column) => record[column]);
  } else values = [pk];
  if (values.length !== columns.length || values.some((value) => value === undefined || value === null)) throw wrongPrimaryKey(model, pk);
  return values;
}

// Per model, the shape of its SELECT by primary key: the same on every call, as a key has no NULL in it.
const primaryKeyShapes = new WeakMap<TableInfo, Shape>();

function selectByPrimaryKey(model: TableInfo, values: unknown[]): Sql {
  const known = primaryKeyShapes.get(model);
  if (known !== undefined) return sharedShape(known, values);
  const built = selectWhere(model, model.primaryKey.map((column, index) => [column, values[index]]), '');
  primaryKeyShapes.set(model, { strings: built.strings, lookup: built.lookup });
  return built;
}

/** The row whose primary key is `pk` (a value, or an object/array for a composite key), or `null`. */
export async function getByPk<Row extends object, Key extends keyof Row & string>(
  pk: PrimaryKey<Row, NoInfer<Key>>,
  { session, model }: { session: Session; model: Model<Row, Key> },
): Promise<Row | null> {
  checkArguments('getByPk', session, model);
  const query = selectByPrimaryKey(model, primaryKeyValues(model, pk));
  let rows: Row[];
  try {
    const now = Session.rows<Row>(session, query);
    rows = Array.isArray(now) ? now : await now;
  } catch (error) {
    throw explained(error, 'getByPk', model, []);
  }
  if (rows.length > 1) throw new MultipleResultsFound(`more than one row of ${describeTable(model)} has this primary key; is primaryKey right?`);
  return rows[0] ?? null;
}

/** The one row matching `attrs`; throws `NoResultFound` for none and `MultipleResultsFound` for more. */
export async function getOne<Row extends object, Key extends keyof Row & string>(session: Session, model: Model<Row, Key>, attrs: Attrs<Row>): Promise<Row> {
  checkArguments('getOne', session, model);
  const entries = matchEntries(model, attrs, 'getOne');
  let rows: Row[];
  try {
    const now = Session.rows<Row>(session, selectWhere(model, entries, 'LIMIT 2'));
    rows = Array.isArray(now) ? now : await now;
  } catch (error) {
    throw explained(error, 'getOne', model, []);
  }
  if (rows.length === 1) return rows[0]!;
  const columns = entries.map(([column]) => column);
  if (rows.length === 0) throw new NoResultFound(`no row of ${describeTable(model)} matches (${columns.join(', ')})`);
  throw tooMany(model, columns);
}

// Each pass costs at most two statements; another pass is needed only when a concurrent writer created
// and then deleted the row between them, so a handful of passes means something else is wrong.
const MAX_ATTEMPTS = 5;

function separate(model: TableInfo, entries: Array<[string, unknown]>, extra: object | undefined, what: string): Array<[string, unknown]> {
  if (extra === undefined) return [];
  const extraEntries = entriesOf(extra, what, model);
  const overlap = extraEntries.filter(([column]) => entries.some(([match]) => match === column)).map(([column]) => column);
  if (overlap.length > 0) {
    throw new ConfigurationError(`${what} repeat the attrs column(s) ${overlap.join(', ')} of ${describeTable(model)}; a column goes in one or the other`, {
      code: 'ATTRS_DEFAULTS_OVERLAP',
    });
  }
  return extraEntries;
}

function insertQuery(model: TableInfo, entries: Array<[string, unknown]>, conflict: Sql, returning: Sql = raw('*')): Sql {
  const values = join(entries.map(([, value]) => sql`${value}`));
  return sql`INSERT INTO ${model.ref} (${columnList(entries.map(([column]) => column))}) VALUES (${values}) ${conflict} RETURNING ${returning}`;
}

function exhausted(helper: string, model: TableInfo, columns: string[]): SqlHelpersError {
  return new SqlHelpersError(
    `${helper} on ${describeTable(model)}: a row with these (${columns.join(', ')}) kept conflicting on insert but never matched on select ` +
      `after ${MAX_ATTEMPTS} attempts; another process may be creating and deleting it, or a NULL in attrs defeats the unique index`,
    { code: 'GET_OR_CREATE_EXHAUSTED' },
  );
}

/**
 * The row matching `attrs`, created (with `defaults`) when there is none: `[row, created]`. Atomic where a
 * unique constraint covers exactly the `attrs` columns: concurrent callers get one row and one `created`.
 * Where the database can write inside a WITH clause (PostgreSQL) and `defaults` is not a function, one
 * statement selects the row and inserts it only when there is none (`findOrInsert`); otherwise it selects,
 * then `INSERT … ON CONFLICT (attrs) DO NOTHING RETURNING *`. Either way it reads again only when another
 * caller won a race for the row. A found row never uses a sequence value.
 */
export async function getOrCreate<Row extends object, Key extends keyof Row & string>(
  session: Session,
  model: Model<Row, Key>,
  attrs: Attrs<Row>,
  options: { defaults?: Defaults<Row> } = {},
): Promise<[Row, boolean]> {
  checkArguments('getOrCreate', session, model);
  const entries = matchEntries(model, attrs, 'getOrCreate');
  const defaults = options.defaults;
  try {
    // A defaults function is called only to create, so it is not known before the row is looked for. Where the
    // driver advises against the one statement (see Driver), the found path stays a plain SELECT.
    const driver = Session.driverOf(session);
    if (typeof defaults !== 'function' && driver.findOrInsertInOneStatement !== false) {
      const extra = separate(model, entries, defaults, 'defaults');
      // Its first query per model (the flag lookup) is also what lets the driver decide, on its first call.
      const flag = await flagColumn(session, model);
      if (driver.findOrInsertInOneStatement) return await findOrCreateInOneStatement(session, model, entries, extra, flag);
    }
    // An object is checked on every call, a function only when it is called, on the create path.
    const fixedDefaults = typeof defaults === 'function' ? undefined : separate(model, entries, defaults, 'defaults');
    const select = selectWhere(model, entries, 'LIMIT 2');
    // Awaited only when the driver cannot answer at once: the common found path on SQLite costs no promise hop.
    const now = Session.rows<Row>(session, select);
    const found = Array.isArray(now) ? now : await now;
    if (found.length > 1) throw tooMany(model, entries.map(([column]) => column));
    if (found.length === 1) return [found[0]!, false];
    const extra = fixedDefaults ?? separate(model, entries, (defaults as () => Attrs<Row>)(), 'defaults');
    return await insertElseRead(session, model, entries, extra, select);
  } catch (error) {
    throw explained(error, 'getOrCreate', model, entries.map(([column]) => column));
  }
}

async function findOrCreateInOneStatement<Row extends object>(
  session: Session,
  model: TableInfo,
  entries: Array<[string, unknown]>,
  extra: Array<[string, unknown]>,
  flag: string,
): Promise<[Row, boolean]> {
  const statement = findOrInsert(model, entries, extra, flag);
  let select: Sql | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const rows = await session.query<Record<string, unknown>>(statement);
    if (rows.length > 1) throw tooMany(model, entries.map(([column]) => column));
    if (rows.length === 1) {
      const { [flag]: created, ...row } = rows[0]!;
      return [row as Row, created === true];
    }
    // Another caller committed the row after this statement's snapshot: a new statement sees it.
    select ??= selectWhere(model, entries, 'LIMIT 2');
    const found = await session.query<Row>(select);
    if (found.length > 1) throw tooMany(model, entries.map(([column]) => column));
    if (found.length === 1) return [found[0]!, false];
  }
  throw exhausted('getOrCreate', model, entries.map(([column]) => column));
}

/** After a select found nothing: `INSERT … ON CONFLICT (attrs) DO NOTHING RETURNING *`, and when another caller won, its row. */
async function insertElseRead<Row extends object>(
  session: Session,
  model: TableInfo,
  entries: Array<[string, unknown]>,
  extra: Array<[string, unknown]>,
  select: Sql,
): Promise<[Row, boolean]> {
  const columns = entries.map(([column]) => column);
  const insert = insertQuery(model, [...entries, ...extra], sql`ON CONFLICT (${columnList(columns)}) DO NOTHING`);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const inserted = await session.query<Row>(insert);
    if (inserted.length === 1) return [inserted[0]!, true];
    const found = await session.query<Row>(select);
    if (found.length > 1) throw tooMany(model, columns);
    if (found.length === 1) return [found[0]!, false];
  }
  throw exhausted('getOrCreate', model, columns);
}

// Per driver and model, the name under which the upsert returns its inserted flag: one the table does not use
// itself, so that a column of the caller's own named sql_helpers_inserted stays in the row. Looked up once.
const flagColumns = new WeakMap<object, WeakMap<TableInfo, string>>();

async function flagColumn(session: Session, model: TableInfo): Promise<string> {
  const driver = Session.driverOf(session);
  let known = flagColumns.get(driver);
  if (known === undefined) flagColumns.set(driver, (known = new WeakMap()));
  const cached = known.get(model);
  if (cached !== undefined) return cached;
  const parts = model.schema === undefined ? [model.name] : [model.schema, model.name];
  let name = 'sql_helpers_inserted';
  for (let n = 1; ; n++) {
    const { present } = await session.one<{ present: unknown }>(driver.relationExistsQuery(parts, name));
    if (present !== true && present !== 1) break;
    name = `sql_helpers_inserted_${n}`;
  }
  known.set(model, name);
  return name;
}

/**
 * The row matching `attrs`, updated with `defaults`, or created with `defaults` and `createDefaults`:
 * `[row, created]`, atomic under the same condition as `getOrCreate`. PostgreSQL: one
 * `INSERT … ON CONFLICT (attrs) DO UPDATE … RETURNING`; SQLite: select, then update or insert.
 * `createDefaults` values are written only on create, but on PostgreSQL a `createDefaults` function is
 * called (once) before that single statement, whichever way it goes.
 */
export async function updateOrCreate<Row extends object, Key extends keyof Row & string>(
  session: Session,
  model: Model<Row, Key>,
  attrs: Attrs<Row>,
  options: { defaults?: Attrs<Row>; createDefaults?: Defaults<Row> } = {},
): Promise<[Row, boolean]> {
  checkArguments('updateOrCreate', session, model);
  const entries = matchEntries(model, attrs, 'updateOrCreate');
  const columns = entries.map(([column]) => column);
  const updates = separate(model, entries, options.defaults, 'defaults');
  // An object is checked now, so that a mistake fails on every call, not only on the ones that create.
  const fixedCreateDefaults =
    typeof options.createDefaults === 'function' ? [] : separate(model, entries, options.createDefaults, 'createDefaults');
  const createDefaults = () => {
    const extra =
      typeof options.createDefaults === 'function'
        ? separate(model, entries, options.createDefaults(), 'createDefaults')
        : fixedCreateDefaults;
    return extra.filter(([column]) => !updates.some(([update]) => update === column));
  };
  const conflictTarget = columnList(columns);
  const insertedFlag = Session.driverOf(session).insertedFlag;

  try {
    if (insertedFlag !== undefined) {
      // With nothing to update, set a matched column to itself so that RETURNING still yields the row.
      const assignments = (updates.length > 0 ? updates : entries.slice(0, 1)).map(
        ([column]) => sql`${identifier(column)} = EXCLUDED.${identifier(column)}`,
      );
      const flag = await flagColumn(session, model);
      const upsert = insertQuery(
        model,
        [...entries, ...updates, ...createDefaults()],
        sql`ON CONFLICT (${conflictTarget}) DO UPDATE SET ${join(assignments)}`,
        sql`*, ${insertedFlag} AS ${identifier(flag)}`,
      );
      const { [flag]: created, ...row } = await session.one<Record<string, unknown>>(upsert);
      return [row as Row, created === true];
    }
    // Without an inserted flag (SQLite), a write transaction makes select-then-write atomic: it holds the
    // database's write lock from its first statement. The insert still names the conflict target, so that
    // attrs no unique constraint covers fail here as they do on PostgreSQL, not first in production.
    return await session.transaction(async (tx): Promise<[Row, boolean]> => {
      const found = await tx.query<Row>(selectWhere(model, entries, 'LIMIT 2'));
      if (found.length > 1) throw tooMany(model, columns);
      if (found.length === 0) {
        const insert = insertQuery(model, [...entries, ...updates, ...createDefaults()], sql`ON CONFLICT (${conflictTarget}) DO NOTHING`);
        return [await tx.one<Row>(insert), true];
      }
      if (updates.length === 0) return [found[0]!, false];
      const assignments = join(updates.map(([column, value]) => sql`${identifier(column)} = ${value}`));
      return [await tx.one<Row>(sql`UPDATE ${model.ref} SET ${assignments} WHERE ${whereOf(entries)} RETURNING *`), false];
    });
  } catch (error) {
    throw explained(error, 'updateOrCreate', model, columns);
  }
}

/** Whether the table (or view) exists, and when `columnName` is given, whether it has that column. */
export async function existsInDb(session: Session, tableName: string, columnName?: string): Promise<boolean> {
  const parts = tableName.split('.');
  parts.forEach((part) => identifier(part));
  if (columnName !== undefined) identifier(columnName);
  const row = await session.one<{ present: unknown }>(Session.driverOf(session).relationExistsQuery(parts, columnName));
  return row.present === true || row.present === 1;
}
