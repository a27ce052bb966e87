/**
 * On a streaming hot standby: reads, status and an up-to-date sync work as on the primary; a pending migration
 * and every write fail with READ_ONLY_STANDBY, which says to use the primary. A throwaway primary and standby
 * are made for this file and removed afterwards.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  DatabaseManager,
  DatabaseStatus,
  ReadOnlyDatabaseError,
  SyncResult,
  getByPk,
  getOne,
  getOrCreate,
  sql,
  table,
} from '../lib/index.js';
import { BASIC_MIGRATIONS, migrationsDir, runCli } from './support.js';
import { startReplication, type Replication } from './topology/standby.js';

let replication: Replication;
let dir: string;
let primary: DatabaseManager;
let standby: DatabaseManager;
const users = table<{ id: number; email: string }>('users', { primaryKey: 'id' });

/** Waits until the standby has replayed everything the primary has written so far. */
async function caughtUp(): Promise<void> {
  const [{ lsn }] = (await primary.query<{ lsn: string }>(sql`SELECT pg_current_wal_lsn()::text AS lsn`)) as [{ lsn: string }];
  for (const deadline = Date.now() + 10_000; ; ) {
    const [{ done }] = (await standby.query<{ done: boolean }>(sql`SELECT pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn AS done`)) as [
      { done: boolean },
    ];
    if (done) return;
    assert.ok(Date.now() < deadline, 'the standby did not catch up');
    await sleep(20);
  }
}

function assertStandbyRefusal(error: unknown): void {
  assert.ok(error instanceof ReadOnlyDatabaseError, String(error));
  assert.equal(error.code, 'READ_ONLY_STANDBY');
  assert.equal(error.sqlState, '25006');
  assert.match(error.message, /is a read-only hot standby \(a replica\).*must run against the primary/);
}

before(async () => {
  replication = await startReplication();
  dir = await migrationsDir(BASIC_MIGRATIONS);
  primary = new DatabaseManager(replication.primaryUrl('postgres'), dir, { schema: 'app' });
  standby = new DatabaseManager(replication.standbyUrl('postgres'), dir, { schema: 'app' });
  assert.equal(await primary.sync(), SyncResult.CREATED);
  await primary.execute(sql`INSERT INTO users (id, email) VALUES (${1}, ${'ada@example.com'})`);
  await caughtUp();
});

after(async () => {
  await standby?.close();
  await primary?.close();
  await replication?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('on a hot standby', () => {
  it('status, an up-to-date sync and read-only helpers work as on the primary', async () => {
    assert.equal(await standby.getStatus(), DatabaseStatus.UP_TO_DATE);
    assert.equal(await standby.getCurrentRevision(), 3);
    assert.equal(await standby.sync(), SyncResult.ALREADY_UP_TO_DATE);
    assert.deepEqual((await standby.verify()).ok, true);
    assert.deepEqual(await getByPk(1, { session: standby, model: users }), { id: 1, email: 'ada@example.com' });
    assert.deepEqual(await getOne(standby, users, { email: 'ada@example.com' }), { id: 1, email: 'ada@example.com' });
    const [row, created] = await getOrCreate(standby, users, { email: 'ada@example.com' });
    assert.deepEqual([row.id, created], [1, false], 'an existing row is found without writing');
    assert.deepEqual(await standby.transaction((tx) => tx.query(sql`SELECT email FROM users`)), [{ email: 'ada@example.com' }]);
  });

  it('a pending migration fails with READ_ONLY_STANDBY and changes nothing, through the API and the CLI', async () => {
    await writeFile(join(dir, '004_more.sql'), 'CREATE TABLE more (id INTEGER);\n');
    try {
      assert.equal(await standby.getStatus(), DatabaseStatus.UPGRADE_AVAILABLE);
      for (const attempt of [() => standby.sync(), () => standby.upgrade(), () => standby.stamp(4), () => standby.downgrade(2), () => standby.drop()]) {
        await assert.rejects(attempt(), (error) => (assertStandbyRefusal(error), true));
      }
      const cli = await runCli(['sync', '--database', replication.standbyUrl('postgres'), '--dir', dir, '--schema', 'app']);
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /read-only hot standby.*primary.*\[READ_ONLY_STANDBY\]/);
      assert.equal(await standby.getCurrentRevision(), 3);
      assert.equal(await primary.getCurrentRevision(), 3);
    } finally {
      await rm(join(dir, '004_more.sql'));
    }
  });

  it('writes fail with READ_ONLY_STANDBY: execute, a new getOrCreate key, a transaction', async () => {
    await assert.rejects(standby.execute(sql`INSERT INTO users (id, email) VALUES (${2}, ${'b@example.com'})`), (error) => (assertStandbyRefusal(error), true));
    await assert.rejects(getOrCreate(standby, users, { email: 'new@example.com' }), (error) => (assertStandbyRefusal(error), true));
    await assert.rejects(
      standby.transaction((tx) => tx.execute(sql`UPDATE users SET email = ${'x'} WHERE id = ${1}`)),
      (error) => (assertStandbyRefusal(error), true),
    );
  });

  it('a read-only transaction on the primary is READ_ONLY_TRANSACTION, not blamed on a standby', async () => {
    const error = await primary
      .transaction(async (tx) => {
        await tx.execute(sql`SET TRANSACTION READ ONLY`);
        await tx.execute(sql`INSERT INTO users (id, email) VALUES (${3}, ${'c@example.com'})`);
      })
      .then(() => assert.fail('refused'), (caught: unknown) => caught);
    assert.ok(error instanceof ReadOnlyDatabaseError);
    assert.equal(error.code, 'READ_ONLY_TRANSACTION');
  });
});
