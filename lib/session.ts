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
  /** The seam this session runs on. */
  protected readonly driver: Driver;

  constructor(driver: Driver) {
    this.dialect = driver.dialect;
    this.driver = driver;
  }

  /** @internal The driver behind a session, for modules that ask it for per-dialect SQL. */
  static driverOf(session: Session): Driver {
    return session.driver;
  }

  /** Runs one statement and returns its rows and affected-row count. */
  protected abstract run<R>(query: Sql): Promise<QueryResult<R>>;

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

/** Begins, commits and rolls back on a connection; `depth` 0 is the outer transaction, deeper ones are savepoints. */
async function runInTransaction<T>(
  driver: Driver,
  connection: Connection,
  depth: number,
  fn: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const savepoint = `sql_helpers_sp_${depth}`;
  const control = (statement: string) => connection.query(new Sql([statement], []));
  await control(depth === 0 ? driver.beginStatement : `SAVEPOINT ${savepoint}`).catch((error: unknown) => {
    throw fromDriverError(error, driver.errorContext);
  });
  const tx = new Transaction(driver, connection, depth);
  try {
    const result = await fn(tx);
    tx.finish();
    await control(depth === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`).catch((error: unknown) => {
      throw fromDriverError(error, driver.errorContext);
    });
    return result;
  } catch (error) {
    tx.finish();
    // A failed COMMIT has already ended the transaction; a lost connection cannot roll back: both are fine.
    await control(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`)
      .then(() => (depth === 0 ? undefined : control(`RELEASE SAVEPOINT ${savepoint}`)))
      .catch(() => undefined);
    // Driver errors reach here already mapped (by the session or the COMMIT above); anything else is the
    // caller's own error, rethrown as it is.
    throw error;
  }
}

/** A session bound to one connection inside a transaction (or savepoint); valid until that transaction ends. */
export class Transaction extends Session {
  readonly #connection: Connection;
  readonly #depth: number;
  #finished = false;

  constructor(driver: Driver, connection: Connection, depth: number) {
    super(driver);
    this.#connection = connection;
    this.#depth = depth;
  }

  /** @internal */
  finish(): void {
    this.#finished = true;
  }

  #assertOpen(): void {
    if (this.#finished) {
      throw new SqlHelpersError('this transaction has already ended; run queries inside the transaction callback', {
        code: 'TRANSACTION_FINISHED',
      });
    }
  }

  protected async run<R>(query: Sql): Promise<QueryResult<R>> {
    this.#assertOpen();
    try {
      return await this.#connection.query<R>(query);
    } catch (error) {
      throw fromDriverError(error, this.driver.errorContext);
    }
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    this.#assertOpen();
    return runInTransaction(this.driver, this.#connection, this.#depth + 1, fn);
  }
}

/** A session bound to one connection outside any transaction (what `configuredConnection` hands out). */
export class ConnectionSession extends Session {
  readonly #connection: Connection;

  constructor(driver: Driver, connection: Connection) {
    super(driver);
    this.#connection = connection;
  }

  protected async run<R>(query: Sql): Promise<QueryResult<R>> {
    try {
      return await this.#connection.query<R>(query);
    } catch (error) {
      throw fromDriverError(error, this.driver.errorContext);
    }
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return runInTransaction(this.driver, this.#connection, 0, fn);
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
  return withConnection(driver, (connection) => runInTransaction(driver, connection, 0, fn));
}
