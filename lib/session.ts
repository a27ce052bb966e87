import type { Connection, Dialect, Driver, QueryResult, Row } from './driver/driver.js';
import { ConfigurationError, ConnectionError, MultipleResultsFound, NoResultFound, SqlHelpersError, fromDriverError } from './errors.js';
import { Sql } from './sql.js';

function assertSql(query: unknown): asserts query is Sql {
  if (!(query instanceof Sql)) {
    throw new ConfigurationError(
      'queries must be built with the sql tag (sql`SELECT … WHERE id = ${id}`), which binds every value; got ' +
        (typeof query === 'string' ? 'a plain string' : typeof query),
      { code: 'NOT_A_SQL_QUERY' },
    );
  }
}

const rowsOf = <R>(result: QueryResult<R>): R[] => result.rows;

/** Runs SQL: the `DatabaseManager` itself (a pooled connection per call) or a transaction. */
export abstract class Session {
  /** `'postgres'` or `'sqlite'`. */
  readonly dialect: Dialect;
  // Private, not a property: util.inspect and JSON.stringify must not reach the pool and its connection string.
  readonly #driver: Driver;

  constructor(driver: Driver) {
    this.dialect = driver.dialect;
    this.#driver = driver;
  }

  /** The seam this session runs on. */
  protected get driver(): Driver {
    return this.#driver;
  }

  /** @internal The driver behind a session, for modules that ask it for per-dialect SQL. */
  static driverOf(session: Session): Driver {
    return session.#driver;
  }

  /** Runs one statement and returns its rows and affected-row count. */
  protected abstract run<R>(query: Sql): Promise<QueryResult<R>>;

  /** The rows of `query` when they can be had at once, without a promise (SQLite with its connection free); else `undefined`. */
  protected rowsNow<R>(_query: Sql): R[] | undefined {
    return undefined;
  }

  /**
   * @internal The rows of a helper's statement, from `rowsNow` when it can answer at once (the caller then awaits
   * nothing: on SQLite each promise hop costs as much as the lookup itself), else from `query`.
   */
  static rows<R>(session: Session, query: Sql): R[] | Promise<R[]> {
    return session.rowsNow<R>(query) ?? session.query<R>(query);
  }

  /** Runs `fn(tx)` in a transaction: commits when it resolves, rolls back when it throws; nested calls use savepoints. */
  abstract transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;

  /** All rows of `query`. */
  query<R = Row>(query: Sql): Promise<R[]> {
    try {
      assertSql(query);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.run<R>(query).then(rowsOf);
  }

  /** Exactly one row; throws `NoResultFound` for none and `MultipleResultsFound` for more. */
  async one<R = Row>(query: Sql): Promise<R> {
    const rows = await this.query<R>(query);
    if (rows.length === 0) throw new NoResultFound();
    if (rows.length > 1) throw new MultipleResultsFound(`expected one row, got ${rows.length}`);
    return rows[0]!;
  }

  /** The one row, or `null` when there is none; throws `MultipleResultsFound` for more. */
  async maybeOne<R = Row>(query: Sql): Promise<R | null> {
    const rows = await this.query<R>(query);
    if (rows.length > 1) throw new MultipleResultsFound(`expected at most one row, got ${rows.length}`);
    return rows[0] ?? null;
  }

  /** The number of rows the statement inserted, updated or deleted. */
  async execute(query: Sql): Promise<number> {
    assertSql(query);
    return (await this.run(query)).rowCount;
  }
}

function finished(): SqlHelpersError {
  return new SqlHelpersError(
    'this transaction has already ended (committed or rolled back); run every statement inside the transaction callback, ' +
      'on the tx it receives, and await nested tx.transaction(…) calls before the callback returns',
    { code: 'TRANSACTION_FINISHED' },
  );
}

/** A nested transaction as its parent sees it: settled or not, and how. */
interface Child {
  done: boolean;
  failed: boolean;
  failure: unknown;
  settled: Promise<void>;
}

/**
 * The one owner of a transaction's lifetime on its connection: every statement of a transaction, savepoint or
 * `configuredConnection` session goes through `send`, which refuses it once this scope or any enclosing one has
 * ended, so nothing late ever reaches a connection that has moved on to another caller.
 */
/** @internal */
export class Scope {
  readonly connection: Connection;
  readonly #parent: Scope | undefined;
  #ended = false;
  readonly #children = new Set<Child>();

  constructor(connection: Connection, parent?: Scope) {
    this.connection = connection;
    this.#parent = parent;
  }

  get open(): boolean {
    return !this.#ended && (this.#parent === undefined || this.#parent.open);
  }

  /** Runs one statement on the connection, or rejects with `TRANSACTION_FINISHED` when the scope has ended. */
  send<R>(query: Sql): Promise<QueryResult<R>> {
    if (!this.open) return Promise.reject(finished());
    return this.connection.query<R>(query);
  }

  /** Marks the scope ended: from now on `send` refuses, here and in every nested scope. */
  end(): void {
    this.#ended = true;
  }

  /** Runs `body` as a nested transaction of this scope, remembered until it settles. */
  nest<T>(body: () => Promise<T>): Promise<T> {
    const child: Child = { done: false, failed: false, failure: undefined, settled: Promise.resolve() };
    this.#children.add(child);
    // The outcome is recorded from inside, not with a handler on the returned promise: a handler would mark
    // a rejection the caller never awaited as handled, and Node would no longer report it.
    const run = (async () => {
      try {
        return await body();
      } catch (error) {
        child.failed = true;
        child.failure = error;
        throw error;
      } finally {
        child.done = true;
        this.#children.delete(child);
      }
    })();
    child.settled = new Promise((resolve) => void run.then(() => resolve(), () => resolve()));
    return run;
  }

  /**
   * Waits for nested transactions the callback started without awaiting: the parent never commits (or releases
   * its savepoint) while one still runs. One that fails makes the parent fail with its error, since the callback
   * never saw it.
   */
  async settleChildren(): Promise<void> {
    while (this.#children.size > 0) {
      const running = [...this.#children];
      await Promise.all(running.map((child) => child.settled));
      const failed = running.find((child) => child.failed);
      if (failed) throw failed.failure;
    }
  }
}

/** Begins, commits and rolls back inside `outer`; `depth` 0 is the outer transaction, deeper ones are savepoints. */
function runInTransaction<T>(driver: Driver, outer: Scope, depth: number, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  if (!outer.open) return Promise.reject(finished());
  return outer.nest(async () => {
    const savepoint = `sql_helpers_sp_${depth}`;
    // Control statements go through the enclosing scope: once it has ended, not even a ROLLBACK TO is sent.
    const control = (statement: string) =>
      outer.send(new Sql([statement], [])).catch((error: unknown) => {
        throw fromDriverError(error, driver.errorContext);
      });
    await control(depth === 0 ? driver.beginStatement : `SAVEPOINT ${savepoint}`);
    const scope = new Scope(outer.connection, outer);
    const tx = new Transaction(driver, scope, depth);
    try {
      const result = await fn(tx);
      await scope.settleChildren();
      scope.end();
      await control(depth === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
      return result;
    } catch (error) {
      scope.end();
      // A failed COMMIT has already ended the transaction; a lost connection cannot roll back; an ended
      // enclosing scope refuses: all are fine.
      await control(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`)
        .then(() => (depth === 0 ? undefined : control(`RELEASE SAVEPOINT ${savepoint}`)))
        .catch(() => undefined);
      // Driver errors reach here already mapped (by the session or the COMMIT above); anything else is the
      // caller's own error, rethrown as it is.
      throw error;
    }
  });
}

/** A session whose statements go through a `Scope`: a transaction, or a connection handed out by `configuredConnection`. */
abstract class ScopedSession extends Session {
  readonly #scope: Scope;
  readonly #depth: number;

  constructor(driver: Driver, scope: Scope, depth: number) {
    super(driver);
    this.#scope = scope;
    this.#depth = depth;
  }

  protected async run<R>(query: Sql): Promise<QueryResult<R>> {
    try {
      return await this.#scope.send<R>(query);
    } catch (error) {
      throw fromDriverError(error, this.driver.errorContext);
    }
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return runInTransaction(this.driver, this.#scope, this.#depth, fn);
  }
}

/** A session bound to one connection inside a transaction (or savepoint); valid until that transaction ends. */
export class Transaction extends ScopedSession {
  constructor(driver: Driver, scope: Scope, depth: number) {
    super(driver, scope, depth + 1);
  }
}

/** A session bound to one connection outside any transaction (what `configuredConnection` hands out); valid until `fn` settles. */
export class ConnectionSession extends ScopedSession {
  constructor(driver: Driver, scope: Scope) {
    super(driver, scope, 0);
  }
}

/** Checks out a connection for `fn`, and discards it instead of reusing it when the connection broke. */
export async function withConnection<T>(
  driver: Driver,
  fn: (connection: Connection) => Promise<T>,
  options?: { qualifiedOnly?: boolean },
): Promise<T> {
  const connection = await driver.acquire(options);
  let broken = false;
  try {
    return await fn(connection);
  } catch (error) {
    // `fn` maps the driver's errors where it calls the driver; the caller's own errors pass unchanged.
    broken = error instanceof ConnectionError;
    throw error;
  } finally {
    connection.release(broken);
  }
}

/** Runs `fn` in a transaction on a freshly checked-out connection. */
export function transactionOn<T>(driver: Driver, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  return withConnection(driver, (connection) => runInTransaction(driver, new Scope(connection), 0, fn));
}

/** Runs `fn` with a session on a freshly checked-out connection; the session ends (refuses statements) when `fn` settles. */
export function connectionSessionOn<T>(driver: Driver, fn: (session: ConnectionSession) => Promise<T>): Promise<T> {
  return withConnection(driver, async (connection) => {
    const scope = new Scope(connection);
    try {
      const result = await fn(new ConnectionSession(driver, scope));
      await scope.settleChildren();
      return result;
    } finally {
      scope.end();
    }
  });
}
