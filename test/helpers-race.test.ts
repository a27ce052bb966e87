import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  DatabaseManager,
  SerializationFailureError,
  UniqueViolationError,
  Session,
  getOrCreate,
  sql,
  table,
  updateOrCreate,
} from '../lib/index.js';
import type { WorkerResult } from './fixtures/race-worker.js';
import { fixtureMigrations, migratedDatabase, type TestDatabase } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/race-worker.js', import.meta.url));

interface RaceRow {
  id: number;
  k: string;
  v: string | null;
}

const race = table<RaceRow>('race', { primaryKey: 'id' });

/** The race table, with a generated key (test/fixtures/migrations/race). */
const MIGRATIONS = fixtureMigrations('race');

/** What one caller got for one key: a row id (null: the call "succeeded" without a row) and its flag, or an error. */
type Outcome = { id: number | null; created: boolean } | { error: string };

/** The figures of one race, for the assertions and for the closing note. */
interface Figures {
  label: string;
  callers: number;
  keys: number;
  calls: number;
  /** Rows in the table for the raced keys (should equal `keys`). */
  rows: number;
  /** Rows beyond the first for a key. */
  duplicates: number;
  /** Calls that threw, by error name. */
  errors: number;
  errorKinds: Record<string, number>;
  /** Calls that returned without a row. */
  noRow: number;
  /** Keys where the number of created === true was not exactly one. */
  createdNotOne: number;
  /** Keys where some caller got an id other than the key's one row. */
  idMismatch: number;
  /** PostgreSQL: sequence values used beyond the rows kept, i.e. inserts that lost a conflict: proof the race happened. */
  contended?: number;
}

function analyse(label: string, callers: number, outcomes: Map<string, Outcome[]>, rows: Array<{ k: string; id: number }>): Figures {
  const idsByKey = new Map<string, number[]>();
  for (const row of rows) idsByKey.set(row.k, [...(idsByKey.get(row.k) ?? []), row.id]);
  const figures: Figures = {
    label,
    callers,
    keys: outcomes.size,
    calls: 0,
    rows: rows.length,
    duplicates: 0,
    errors: 0,
    errorKinds: {},
    noRow: 0,
    createdNotOne: 0,
    idMismatch: 0,
  };
  for (const [key, results] of outcomes) {
    const ids = idsByKey.get(key) ?? [];
    figures.duplicates += Math.max(0, ids.length - 1);
    let created = 0;
    let mismatch = false;
    for (const result of results) {
      figures.calls++;
      if ('error' in result) {
        figures.errors++;
        const kind = result.error.split(':')[0]!;
        figures.errorKinds[kind] = (figures.errorKinds[kind] ?? 0) + 1;
        continue;
      }
      if (result.id === null) figures.noRow++;
      else if (ids.length !== 1 || ids[0] !== result.id) mismatch = true;
      if (result.created) created++;
    }
    if (created !== 1) figures.createdNotOne++;
    if (mismatch) figures.idMismatch++;
  }
  return figures;
}

function report(t: TestContext, figures: Figures): void {
  const { label, callers, keys, calls, rows, duplicates, errors, errorKinds, noRow, createdNotOne, idMismatch, contended } = figures;
  const kinds = Object.entries(errorKinds).map(([kind, n]) => `${kind}×${n}`).join(', ');
  t.diagnostic(
    `${label}: callers=${callers} keys=${keys} calls=${calls} rows=${rows} duplicates=${duplicates} errors=${errors}${kinds ? ` (${kinds})` : ''} ` +
      `noRow=${noRow} createdNotOne=${createdNotOne} idMismatch=${idMismatch}${contended === undefined ? '' : ` contendedInserts=${contended}`}`,
  );
}

/** The spec's guarantee, per key: one row, one created === true, the same row for every caller, no error. */
function assertAtomic(figures: Figures): void {
  assert.equal(figures.errors, 0, `no caller fails: ${JSON.stringify(figures.errorKinds)}`);
  assert.equal(figures.noRow, 0, 'every caller gets a row');
  assert.equal(figures.duplicates, 0, 'one row per key');
  assert.equal(figures.rows, figures.keys, 'every key has its row');
  assert.equal(figures.createdNotOne, 0, 'exactly one created === true per key');
  assert.equal(figures.idMismatch, 0, 'every caller gets the same row');
  assert.equal(figures.calls, figures.callers * figures.keys);
}

/** Whether the harness saw the guarantee broken in any way. */
const broken = (figures: Figures) =>
  figures.errors > 0 || figures.noRow > 0 || figures.duplicates > 0 || figures.createdNotOne > 0 || figures.idMismatch > 0;

const keysFor = (prefix: string, n: number) => Array.from({ length: n }, (_, index) => `${prefix}-${index}`);

/** One caller's operation on one key: `[row or null, created]`. */
type Operation = (session: Session, key: string) => Promise<[RaceRow | null, boolean]>;

/** The helper under test; its defaults function must run at most once per call, even when it loops. */
const helperOp: Operation = async (session, key) => {
  let calls = 0;
  const result = await getOrCreate(session, race, { k: key }, {
    defaults: () => {
      calls++;
      return { v: 'helper' };
    },
  });
  // A loser of the insert race has called it too (it tried to create), but never twice.
  if (calls > 1 || (result[1] && calls !== 1)) throw new Error(`DefaultsCalled: ${calls} times, created=${result[1]}`);
  return result;
};

/** The helper with fixed defaults: on PostgreSQL, the one-statement path (select, else insert, in one CTE). */
const oneStatementOp: Operation = (session, key) => getOrCreate(session, race, { k: key }, { defaults: { v: 'fixed' } });

let updateSerial = 0;
const updateOp: Operation = (session, key) => updateOrCreate(session, race, { k: key }, { defaults: { v: `update-${++updateSerial}` } });

/** Negative control 1, the Python original: select, and when nothing is there, a plain INSERT … RETURNING *. */
const naiveOp: Operation = async (session, key) => {
  const found = await session.maybeOne<RaceRow>(sql`SELECT * FROM race WHERE k = ${key}`);
  if (found) return [found, false];
  return [await session.one<RaceRow>(sql`INSERT INTO race (k, v) VALUES (${key}, ${'naive'}) RETURNING *`), true];
};

/**
 * Negative control 2, the one-statement idiom with no retry. Under READ COMMITTED its SELECT branch uses the
 * statement's snapshot, taken before the conflicting insert committed: it finds nothing, and the caller gets no row.
 */
const cteOp: Operation = async (session, key) => {
  const row = await session.maybeOne<RaceRow & { inserted: boolean }>(sql`
    WITH ins AS (INSERT INTO race (k, v) VALUES (${key}, ${'cte'}) ON CONFLICT (k) DO NOTHING RETURNING *)
    SELECT *, true AS inserted FROM ins UNION ALL SELECT *, false AS inserted FROM race WHERE k = ${key} LIMIT 1`);
  if (row === null) return [null, false];
  const { inserted, ...rest } = row;
  return [rest, inserted];
};

/** Runs `op` in an explicit (READ COMMITTED) transaction that stays open `holdSeconds` after it, holding the key. */
const inTransaction =
  (op: Operation, holdSeconds = 0): ((db: DatabaseManager, key: string) => Promise<[RaceRow | null, boolean]>) =>
  (db, key) =>
    db.transaction(async (tx) => {
      const result = await op(tx, key);
      if (holdSeconds > 0) await tx.query(sql`SELECT pg_sleep(${holdSeconds})`);
      return result;
    });

/** Counts the statements `db` sends (pg Client#query calls on the clients its pool hands out) from now on. */
function countStatements(db: DatabaseManager<'postgres'>): { take(): number; stop(): void } {
  type Queryable = { query: (...args: unknown[]) => unknown };
  let count = 0;
  const originals = new Map<Queryable, Queryable['query']>();
  const patch = (client: Queryable) => {
    if (originals.has(client)) return;
    const original = client.query;
    originals.set(client, original);
    client.query = function (this: unknown, ...args: unknown[]) {
      count++;
      return original.apply(this, args);
    };
  };
  const onAcquire = (client: unknown) => patch(client as Queryable);
  db.engine.on('acquire', onAcquire);
  return {
    take() {
      const taken = count;
      count = 0;
      return taken;
    },
    stop() {
      db.engine.off('acquire', onAcquire);
      for (const [client, original] of originals) client.query = original;
    },
  };
}

const describeError = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : `Error: ${String(error)}`);

describe('getOrCreate / updateOrCreate races on PostgreSQL', () => {
  // 24 managers with one connection each: 24 backends that really run at once (one pg client queues its queries).
  const CALLERS = 24;
  const KEYS = 50;
  const HELD_KEYS = 10;
  const dir = MIGRATIONS;
  let database: { uri: string; cleanup(): Promise<void> };
  let managers: DatabaseManager[] = [];
  let observer: DatabaseManager;

  before(async () => {
    // A whole database of its own, in its default schema: the lock-wait probe looks at current_database().
    database = await migratedDatabase('postgres', dir, { inSchema: false });
    observer = new DatabaseManager(database.uri, dir, { engineArgs: { max: 2 } });
    managers = Array.from({ length: CALLERS }, () => new DatabaseManager(database.uri, dir, { engineArgs: { max: 1 } }));
    // Connect every pool before racing, so that connection set-up does not stagger the start.
    await Promise.all(managers.map((db) => db.query(sql`SELECT 1 AS ready`)));
  });
  after(async () => {
    await Promise.all([...managers, observer].map((db) => db?.close()));
    await database?.cleanup();
  });

  /** Every manager runs `call` on the same key at the same moment (a barrier), key after key. */
  async function pgRace(label: string, keys: string[], call: (db: DatabaseManager, key: string) => Promise<[RaceRow | null, boolean]>): Promise<Figures> {
    await observer.execute(sql`TRUNCATE race RESTART IDENTITY`);
    const outcomes = new Map<string, Outcome[]>();
    for (const key of keys) {
      let open!: () => void;
      const barrier = new Promise<void>((resolve) => (open = resolve));
      const runs = managers.map(async (db): Promise<Outcome> => {
        await barrier;
        try {
          const [row, created] = await call(db, key);
          return { id: row === null ? null : row.id, created };
        } catch (error) {
          return { error: describeError(error) };
        }
      });
      open();
      outcomes.set(key, await Promise.all(runs));
    }
    const rows = await observer.query<{ k: string; id: number }>(sql`SELECT k, id FROM race ORDER BY id`);
    const figures = analyse(label, managers.length, outcomes, rows);
    const { used } = await observer.one<{ used: number }>(sql`SELECT nextval(pg_get_serial_sequence('race', 'id'))::integer - 1 AS used`);
    figures.contended = used - rows.length;
    return figures;
  }

  /** Runs a negative control up to `attempts` times; returns every attempt's figures (the last one broke, or all passed). */
  async function control(label: string, keys: string[], call: Parameters<typeof pgRace>[2], attempts = 3): Promise<Figures[]> {
    const all: Figures[] = [];
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const figures = await pgRace(`${label} (attempt ${attempt})`, keys, call);
      all.push(figures);
      if (broken(figures)) break;
    }
    return all;
  }

  it(`getOrCreate: ${CALLERS} connections × ${KEYS} fresh keys, autocommit`, async (t) => {
    const figures = await pgRace('postgres getOrCreate autocommit', keysFor('auto', KEYS), (db, key) => helperOp(db, key));
    report(t, figures);
    assertAtomic(figures);
    // Losing inserts use a sequence value each: proof that callers really reached INSERT together.
    assert.ok(figures.contended! > 0, 'the callers really raced (some inserts lost a conflict)');
  });

  it(`getOrCreate: ${CALLERS} connections × ${KEYS} keys, each caller in its own READ COMMITTED transaction`, async (t) => {
    const figures = await pgRace('postgres getOrCreate in transactions', keysFor('tx', KEYS), inTransaction(helperOp));
    report(t, figures);
    assertAtomic(figures);
    assert.ok(figures.contended! > 0, 'the callers really raced');
  });

  it(`getOrCreate: transactions that hold the key 50 ms after creating it (the condition that breaks the CTE idiom)`, async (t) => {
    const figures = await pgRace('postgres getOrCreate in held transactions', keysFor('held', HELD_KEYS), inTransaction(helperOp, 0.05));
    report(t, figures);
    assertAtomic(figures);
    assert.ok(figures.contended! >= HELD_KEYS, 'losers waited on the holder and lost the conflict');
  });

  it(`getOrCreate with fixed defaults (one statement): ${CALLERS} connections × ${KEYS} keys, autocommit, in transactions, and held`, async (t) => {
    for (const [label, keys, call, minContended] of [
      ['postgres getOrCreate one statement autocommit', keysFor('one', KEYS), (db: DatabaseManager, key: string) => oneStatementOp(db, key), 1],
      ['postgres getOrCreate one statement in transactions', keysFor('onetx', KEYS), inTransaction(oneStatementOp), 1],
      // The condition that leaves the bare CTE idiom (the negative control below) without a row.
      ['postgres getOrCreate one statement in held transactions', keysFor('oneheld', HELD_KEYS), inTransaction(oneStatementOp, 0.05), HELD_KEYS],
    ] as const) {
      const figures = await pgRace(label, [...keys], call);
      report(t, figures);
      assertAtomic(figures);
      assert.ok(figures.contended! >= minContended, 'the callers really raced (some inserts lost a conflict)');
    }
  });

  it('getOrCreate with fixed defaults: one statement per call whether the key exists or is new, and a lost race reads once more', async () => {
    const db = managers[2]!;
    const counted = countStatements(db as DatabaseManager<'postgres'>);
    try {
      const [row, created] = await oneStatementOp(db, 'count-new');
      assert.equal(created, true);
      // Through a transaction pooler statements are not prepared: the found path stays a plain SELECT there, and a
      // new key costs the SELECT and the INSERT.
      const prepared = Session.driverOf(db).findOrInsertInOneStatement;
      assert.equal(prepared, process.env.TEST_TOPOLOGY !== 'pgbouncer');
      assert.equal(counted.take(), prepared ? 1 : 2, 'a new key: one statement (prepared)');
      assert.deepEqual(await oneStatementOp(db, 'count-new'), [row, false]);
      assert.equal(counted.take(), 1, 'an existing key: one statement');
      // A lost race: another connection inserts the key, uncommitted; our statement waits on it, skips the insert
      // once it commits and returns nothing; the second read returns the winner's row.
      let inserted!: () => void;
      const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
      let commit!: () => void;
      const committed = new Promise<void>((resolve) => (commit = resolve));
      const holder = managers[0]!.transaction(async (tx) => {
        await tx.query(sql`INSERT INTO race (k, v) VALUES (${'count-race'}, ${'winner'})`);
        inserted();
        await committed;
      });
      await insertedSignal;
      const loser = oneStatementOp(db, 'count-race');
      const deadline = Date.now() + 5000;
      for (;;) {
        const { waiting } = await observer.one<{ waiting: number }>(sql`
          SELECT count(*)::integer AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND (query LIKE 'WITH found%' OR query LIKE 'INSERT INTO "race"%')`);
        if (waiting === 1) break;
        assert.ok(Date.now() < deadline, 'the statement blocks on the uncommitted row');
        await sleep(10);
      }
      commit();
      await holder;
      const [winner, loserCreated] = await loser;
      assert.equal(loserCreated, false);
      assert.equal(winner?.v, 'winner');
      assert.equal(counted.take(), prepared ? 2 : 3, 'the lost race: the statement, then one read');
    } finally {
      counted.stop();
    }
  });

  it(`updateOrCreate: ${CALLERS} connections × ${KEYS} keys, autocommit, in transactions, and held`, async (t) => {
    for (const [label, keys, call] of [
      ['postgres updateOrCreate autocommit', keysFor('upd', KEYS), (db: DatabaseManager, key: string) => updateOp(db, key)],
      ['postgres updateOrCreate in transactions', keysFor('updtx', KEYS), inTransaction(updateOp)],
      ['postgres updateOrCreate in held transactions', keysFor('updheld', HELD_KEYS), inTransaction(updateOp, 0.05)],
    ] as const) {
      const figures = await pgRace(label, [...keys], call);
      report(t, figures);
      assertAtomic(figures);
      // Every caller's upsert either inserted or updated: all but one per key took the update path.
      assert.equal(figures.contended, figures.calls - figures.keys);
    }
    const values = await observer.query<{ v: string }>(sql`SELECT v FROM race`);
    assert.ok(values.every((row) => /^update-\d+$/.test(row.v)), 'every row holds some caller’s defaults');
  });

  it('negative control: the naive select-then-insert fails under the same harness (unique violations)', async (t) => {
    const attempts = await control('postgres naive select-then-insert', keysFor('naive', KEYS), (db, key) => naiveOp(db, key));
    for (const figures of attempts) report(t, figures);
    const last = attempts.at(-1)!;
    assert.ok(broken(last), 'the harness catches the naive version');
    assert.ok(last.errors > 0 && (last.errorKinds[UniqueViolationError.name] ?? 0) === last.errors, 'its callers fail with unique violations');
    assert.equal(last.duplicates, 0, 'the unique index still keeps the table clean');
  });

  it('negative control: the single-statement CTE idiom leaves callers without a row when the creator commits late', async (t) => {
    // In autocommit it already fails whenever a loser's statement starts before the winner's commit; the held
    // transactions below make that certain. It never throws: its failure is silent.
    const fast = await pgRace('postgres CTE idiom autocommit', keysFor('cte-fast', KEYS), (db, key) => cteOp(db, key));
    report(t, fast);
    assert.equal(fast.errors, 0, 'it never throws');
    const attempts = await control('postgres CTE idiom in held transactions', keysFor('cte-held', HELD_KEYS), inTransaction(cteOp, 0.05));
    for (const figures of attempts) report(t, figures);
    const last = attempts.at(-1)!;
    assert.ok(broken(last), 'the harness catches the CTE idiom');
    assert.ok(last.noRow > 0, 'some callers got no row at all');
    assert.equal(last.errors, 0);
  });

  it('interleaving: the helper blocks on an uncommitted insert of its key, then returns that row once it commits', async () => {
    for (const outcome of ['commit', 'rollback'] as const) {
      const key = `interleave-${outcome}`;
      let inserted!: (row: RaceRow) => void;
      const insertedRow = new Promise<RaceRow>((resolve) => (inserted = resolve));
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      class Rollback extends Error {}
      const holder = managers[0]!.transaction(async (tx) => {
        inserted(await tx.one<RaceRow>(sql`INSERT INTO race (k, v) VALUES (${key}, ${'holder'}) RETURNING *`));
        await finished;
        if (outcome === 'rollback') throw new Rollback();
      });
      const held = await insertedRow;

      let settled = false;
      const helper = getOrCreate(managers[1]!, race, { k: key }, { defaults: { v: 'helper' } }).finally(() => (settled = true));
      // Wait until the helper's INSERT is blocked on the holder's row lock.
      const deadline = Date.now() + 5000;
      for (;;) {
        const { waiting } = await observer.one<{ waiting: number }>(sql`
          SELECT count(*)::integer AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND (query LIKE 'INSERT INTO "race"%' OR query LIKE 'WITH found%')`);
        if (waiting === 1) break;
        assert.ok(Date.now() < deadline, 'the helper blocks on the uncommitted row');
        await sleep(10);
      }
      assert.equal(settled, false, 'the helper has not answered while the holder is undecided');

      finish();
      if (outcome === 'rollback') await assert.rejects(holder, Rollback);
      else await holder;
      const [row, created] = await helper;
      if (outcome === 'commit') {
        assert.deepEqual([row, created], [held, false], 'the holder’s row, not created');
      } else {
        assert.equal(created, true, 'the holder rolled back: the helper creates the row');
        assert.notEqual(row.id, held.id);
        assert.equal(row.v, 'helper');
      }
      const rows = await observer.query<RaceRow>(sql`SELECT * FROM race WHERE k = ${key}`);
      assert.deepEqual(rows, [row]);
    }
  });

  it('REPEATABLE READ: a conflicting insert committed after the snapshot is a SerializationFailureError, and a retry succeeds', async () => {
    const key = 'repeatable-read';
    let attempt = 0;
    const unitOfWork = () =>
      managers[1]!.transaction(async (tx) => {
        attempt++;
        await tx.execute(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`);
        await tx.query(sql`SELECT count(*) AS n FROM race`); // takes the snapshot
        if (attempt === 1) {
          // Another connection creates the key and commits after our snapshot.
          const [, created] = await getOrCreate(managers[0]!, race, { k: key }, { defaults: { v: 'other' } });
          assert.equal(created, true);
        }
        return getOrCreate(tx, race, { k: key }, { defaults: { v: 'mine' } });
      });
    let failure: unknown;
    await assert.rejects(unitOfWork(), (error: unknown) => {
      failure = error;
      return true;
    });
    assert.ok(failure instanceof SerializationFailureError, `expected SerializationFailureError, got ${describeError(failure)}`);
    assert.equal(failure.code, 'SERIALIZATION_FAILURE');
    assert.equal(failure.sqlState, '40001');
    // Retrying the unit of work, as the error says to, gives the other caller's row.
    const [row, created] = await unitOfWork();
    assert.equal(created, false);
    assert.equal(row.v, 'other');
    assert.equal((await observer.query(sql`SELECT 1 AS one FROM race WHERE k = ${key}`)).length, 1);
  });
});

describe('getOrCreate / updateOrCreate races on SQLite (separate processes, one WAL file)', () => {
  const PROCESSES = 8;
  const KEYS = 300;
  const dir = MIGRATIONS;
  let database: TestDatabase;
  let db: DatabaseManager;

  before(async () => {
    database = await migratedDatabase('sqlite', dir);
    db = new DatabaseManager(database.uri, dir, database.options);
  });
  after(async () => {
    await db?.close();
    await database?.cleanup();
  });

  /** Starts a worker and resolves once it is ready; `go()` releases it, `result` is its output. */
  function startWorker(mode: string, keys: string[]): Promise<{ go(): void; result: Promise<WorkerResult[]> }> {
    const child = spawn(process.execPath, [WORKER, database.uri, dir, mode, JSON.stringify(keys)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const result = new Promise<WorkerResult[]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        if (code !== 0 || !last.startsWith('{')) reject(new Error(`worker exited with ${code}: ${stderr || stdout}`));
        else resolve((JSON.parse(last) as { results: WorkerResult[] }).results);
      });
    });
    return new Promise((resolve, reject) => {
      result.catch(reject);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const wasReady = stdout.includes('ready\n');
        stdout += chunk;
        if (!wasReady && stdout.includes('ready\n')) resolve({ go: () => child.stdin.end('go\n'), result });
      });
    });
  }

  async function sqliteRace(label: string, mode: string, keys: string[]): Promise<Figures> {
    await db.execute(sql`DELETE FROM race`);
    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(mode, keys)));
    workers.forEach((worker) => worker.go());
    const perWorker = await Promise.all(workers.map((worker) => worker.result));
    const outcomes = new Map<string, Outcome[]>(keys.map((key) => [key, []]));
    for (const results of perWorker) {
      assert.equal(results.length, keys.length);
      for (const result of results) outcomes.get(result.key)!.push('error' in result ? { error: result.error } : { id: result.id, created: result.created });
    }
    const rows = await db.query<{ k: string; id: number }>(sql`SELECT k, id FROM race ORDER BY id`);
    return analyse(label, PROCESSES, outcomes, rows);
  }

  it(`getOrCreate: ${PROCESSES} processes × ${KEYS} keys, autocommit and in transactions`, async (t) => {
    for (const [label, mode, prefix] of [
      ['sqlite getOrCreate autocommit', 'helper', 'auto'],
      ['sqlite getOrCreate in transactions', 'helper-tx', 'tx'],
    ] as const) {
      const figures = await sqliteRace(label, mode, keysFor(prefix, KEYS));
      report(t, figures);
      assertAtomic(figures);
    }
  });

  it(`updateOrCreate: ${PROCESSES} processes × ${KEYS} keys`, async (t) => {
    const figures = await sqliteRace('sqlite updateOrCreate', 'update', keysFor('upd', KEYS));
    report(t, figures);
    assertAtomic(figures);
  });

  it('negative control: the naive select-then-insert, same harness', async (t) => {
    const attempts: Figures[] = [];
    // Its window (between two autocommit statements of one process) is narrow: a few collisions per run.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const figures = await sqliteRace(`sqlite naive select-then-insert (attempt ${attempt})`, 'naive', keysFor(`naive${attempt}`, KEYS));
      report(t, figures);
      attempts.push(figures);
      if (broken(figures)) break;
    }
    const last = attempts.at(-1)!;
    assert.ok(broken(last), 'the harness catches the naive version on SQLite too');
    assert.ok(last.errors > 0 && (last.errorKinds[UniqueViolationError.name] ?? 0) === last.errors, 'with unique violations');
  });
});
