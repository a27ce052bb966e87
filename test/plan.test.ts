import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MigrationStateError, SqlHelpersError } from '../lib/errors.js';
import { parseMigrations, type Migration } from '../lib/migrations/files.js';
import {
  compare,
  parseTarget,
  planDowngrade,
  planStamp,
  planUpgrade,
  type AppliedMigration,
  type Comparison,
} from '../lib/migrations/plan.js';

const encoder = new TextEncoder();

/** Migrations from file name → text, parsed for SQLite. */
function migrationsOf(files: Record<string, string>): Migration[] {
  return parseMigrations(
    Object.entries(files).map(([file, text]) => ({ file, content: encoder.encode(text) })),
    'sqlite',
  );
}

/** Versions 1..3, each with a down file. */
const THREE = migrationsOf({
  '1_users.sql': 'CREATE TABLE users (id int);',
  '1_users.down.sql': 'DROP TABLE users;',
  '2_groups.sql': 'CREATE TABLE groups (id int);',
  '2_groups.down.sql': 'DROP TABLE groups;',
  '3_memberships.sql': 'CREATE TABLE memberships (id int);',
  '3_memberships.down.sql': 'DROP TABLE memberships;',
});

const at = new Date('2024-01-02T03:04:05Z');

/** The version-table row for a migration as it is now (checksum matching). */
function row(migration: Migration | undefined, overrides: Partial<AppliedMigration> = {}): AppliedMigration {
  assert.ok(migration);
  return { version: migration.version, name: migration.name, checksum: migration.up.checksum, appliedAt: at, durationMs: 12, ...overrides };
}

const byVersion = (migrations: Migration[], version: number) => migrations.find((migration) => migration.version === version);
const versions = (migrations: Migration[]) => migrations.map((migration) => migration.version);
const applied = (migrations: Migration[], ...list: number[]) => list.map((version) => row(byVersion(migrations, version)));

function assertStateError(fn: () => unknown, code: string, expectedVersions?: number[]): MigrationStateError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MigrationStateError, `expected a MigrationStateError, got ${String(caught)}`);
  assert.ok(caught instanceof SqlHelpersError);
  assert.equal(caught.code, code, caught.message);
  if (expectedVersions) assert.deepEqual(caught.versions, expectedVersions);
  return caught;
}

describe('compare: a fresh database', () => {
  it('with no files and no rows, everything is empty', () => {
    assert.deepEqual(compare([], []), { listing: [], pending: [], problems: [], current: null, latest: null });
  });

  it('every file is pending; current is null, latest is the highest file', () => {
    const comparison = compare(THREE, []);
    assert.deepEqual(versions(comparison.pending), [1, 2, 3]);
    assert.equal(comparison.current, null);
    assert.equal(comparison.latest, 3);
    assert.deepEqual(comparison.problems, []);
    assert.deepEqual(
      comparison.listing.map((entry) => [entry.version, entry.state]),
      [
        [1, 'pending'],
        [2, 'pending'],
        [3, 'pending'],
      ],
    );
  });
});

describe('compare: partly applied', () => {
  const comparison = compare(THREE, applied(THREE, 1, 2));

  it('pending holds only unrecorded versions; current is the highest applied', () => {
    assert.deepEqual(versions(comparison.pending), [3]);
    assert.equal(comparison.current, 2);
    assert.equal(comparison.latest, 3);
    assert.deepEqual(comparison.problems, []);
  });

  it('the listing shows each version with its state, file, down, applied time and duration', () => {
    assert.deepEqual(comparison.listing, [
      { version: 1, name: 'users', state: 'applied', file: '1_users.sql', hasDown: true, noop: false, appliedAt: at, durationMs: 12 },
      { version: 2, name: 'groups', state: 'applied', file: '2_groups.sql', hasDown: true, noop: false, appliedAt: at, durationMs: 12 },
      { version: 3, name: 'memberships', state: 'pending', file: '3_memberships.sql', hasDown: true, noop: false, appliedAt: undefined, durationMs: undefined },
    ]);
  });

  it('current is the maximum even when rows come unsorted', () => {
    const rows = applied(THREE, 3, 1, 2);
    assert.equal(compare(THREE, rows).current, 3);
    assert.deepEqual(
      compare(THREE, rows).listing.map((entry) => entry.version),
      [1, 2, 3],
    );
  });

  it('fully applied: nothing pending, current equals latest', () => {
    const full = compare(THREE, applied(THREE, 1, 2, 3));
    assert.deepEqual(full.pending, []);
    assert.equal(full.current, 3);
    assert.equal(full.latest, 3);
    assert.ok(full.listing.every((entry) => entry.state === 'applied'));
  });

  it('hasDown is false for a migration without a down file', () => {
    const noDown = migrationsOf({ '1_a.sql': 'SELECT 1;' });
    assert.equal(compare(noDown, [])?.listing[0]?.hasDown, false);
  });
});

describe('compare: CHECKSUM_MISMATCH', () => {
  it('an applied file whose content changed is "changed" and a problem', () => {
    const rows = [row(THREE[0]), row(THREE[1], { checksum: 'deadbeef'.repeat(8) })];
    const comparison = compare(THREE, rows);
    assert.equal(comparison.listing[1]?.state, 'changed');
    assert.equal(comparison.problems.length, 1);
    const [problem] = comparison.problems;
    assert.equal(problem?.code, 'CHECKSUM_MISMATCH');
    assert.equal(problem?.version, 2);
    assert.ok(problem?.message.includes('2_groups.sql'), problem?.message);
    assert.deepEqual(versions(comparison.pending), [3]);
  });
});

describe('compare: MISSING_FILE', () => {
  it('an applied version whose file is gone (below the latest file) is "missing" and a problem', () => {
    const files = THREE.filter((migration) => migration.version !== 2);
    const comparison = compare(files, applied(THREE, 1, 2, 3));
    const entry = comparison.listing.find((item) => item.version === 2);
    assert.deepEqual(entry, {
      version: 2,
      name: 'groups',
      state: 'missing',
      file: undefined,
      hasDown: false,
      noop: false,
      appliedAt: at,
      durationMs: 12,
    });
    assert.deepEqual(
      comparison.problems.map((problem) => [problem.code, problem.version]),
      [['MISSING_FILE', 2]],
    );
    assert.match(comparison.problems[0]!.message, /2_groups\.sql/);
  });
});

describe('compare: DATABASE_AHEAD', () => {
  it('an applied version above every file: the database is ahead of these files', () => {
    const rows = [...applied(THREE, 1, 2, 3), { version: 5, name: 'future', checksum: 'x', appliedAt: at, durationMs: 1 }];
    const comparison = compare(THREE, rows);
    assert.equal(comparison.current, 5);
    assert.equal(comparison.latest, 3);
    assert.deepEqual(comparison.pending, []);
    assert.deepEqual(
      comparison.problems.map((problem) => [problem.code, problem.version]),
      [['DATABASE_AHEAD', 5]],
    );
    assert.equal(comparison.listing.at(-1)?.state, 'missing');
    assert.equal(comparison.listing.at(-1)?.name, 'future');
  });

  it('with no files at all, any applied version is ahead', () => {
    const comparison = compare([], [{ version: 1, name: 'a', checksum: 'x', appliedAt: at, durationMs: 1 }]);
    assert.equal(comparison.latest, null);
    assert.deepEqual(
      comparison.problems.map((problem) => problem.code),
      ['DATABASE_AHEAD'],
    );
  });
});

describe('compare: OUT_OF_ORDER', () => {
  it('a pending version below the highest applied one is a problem', () => {
    const comparison = compare(THREE, applied(THREE, 1, 3));
    assert.deepEqual(versions(comparison.pending), [2]);
    assert.deepEqual(
      comparison.problems.map((problem) => [problem.code, problem.version]),
      [['OUT_OF_ORDER', 2]],
    );
    assert.match(comparison.problems[0]!.message, /2_groups\.sql/);
  });

  it('pending versions above the current one are not out of order', () => {
    assert.deepEqual(compare(THREE, applied(THREE, 1)).problems, []);
  });
});

describe('compare: several problems at once', () => {
  it('reports each, row problems first in row order, then out-of-order files', () => {
    const files = THREE.filter((migration) => migration.version !== 1);
    const rows = [
      row(THREE[0]), // 1: file gone → MISSING_FILE
      row(THREE[2], { checksum: 'changed' }), // 3: changed
      { version: 9, name: 'future', checksum: 'x', appliedAt: at, durationMs: 1 },
    ];
    const comparison = compare(files, rows);
    assert.deepEqual(
      comparison.problems.map((problem) => [problem.code, problem.version]),
      [
        ['MISSING_FILE', 1],
        ['CHECKSUM_MISMATCH', 3],
        ['DATABASE_AHEAD', 9],
        ['OUT_OF_ORDER', 2],
      ],
    );
  });
});

describe('planUpgrade: targets', () => {
  const fresh = compare(THREE, []);

  it('head (the default) applies every pending migration in order', () => {
    assert.deepEqual(versions(planUpgrade(fresh, THREE)), [1, 2, 3]);
    assert.deepEqual(versions(planUpgrade(fresh, THREE, { target: 'head' })), [1, 2, 3]);
  });

  it('a number or a numeric string stops at that version', () => {
    assert.deepEqual(versions(planUpgrade(fresh, THREE, { target: 2 })), [1, 2]);
    assert.deepEqual(versions(planUpgrade(fresh, THREE, { target: '2' })), [1, 2]);
    assert.deepEqual(versions(planUpgrade(fresh, THREE, { target: '001' })), [1]);
  });

  it('only pending migrations are planned', () => {
    assert.deepEqual(versions(planUpgrade(compare(THREE, applied(THREE, 1)), THREE)), [2, 3]);
  });

  it('nothing when up to date, or when the target is the current version', () => {
    assert.deepEqual(planUpgrade(compare(THREE, applied(THREE, 1, 2, 3)), THREE), []);
    assert.deepEqual(planUpgrade(compare(THREE, applied(THREE, 1, 2)), THREE, { target: 2 }), []);
  });

  it('nothing for no files at all', () => {
    assert.deepEqual(planUpgrade(compare([], []), []), []);
  });

  it('UNKNOWN_TARGET for a version no file has', () => {
    const error = assertStateError(() => planUpgrade(fresh, THREE, { target: 7 }), 'UNKNOWN_TARGET', [7]);
    assert.match(error.message, /1, 2, 3/);
  });

  it('UNKNOWN_TARGET for something that is not a version', () => {
    for (const target of ['latest', 'abc', '-1', '1.5', '', 'HEAD']) {
      assertStateError(() => planUpgrade(fresh, THREE, { target }), 'UNKNOWN_TARGET');
    }
  });

  it('TARGET_BELOW_CURRENT when the target is below the applied version', () => {
    const error = assertStateError(
      () => planUpgrade(compare(THREE, applied(THREE, 1, 2, 3)), THREE, { target: 1 }),
      'TARGET_BELOW_CURRENT',
      [1],
    );
    assert.match(error.message, /downgrade/);
  });
});

describe('planUpgrade: refusals', () => {
  it('throws with the code of the only problem', () => {
    const rows = [row(THREE[0], { checksum: 'other' })];
    const error = assertStateError(() => planUpgrade(compare(THREE, rows), THREE), 'CHECKSUM_MISMATCH', [1]);
    assert.match(error.message, /1_users\.sql/);
  });

  it('throws MISSING_FILE, DATABASE_AHEAD and OUT_OF_ORDER', () => {
    const withoutTwo = THREE.filter((migration) => migration.version !== 2);
    assertStateError(() => planUpgrade(compare(withoutTwo, applied(THREE, 1, 2)), withoutTwo), 'MISSING_FILE', [2]);
    const ahead = [...applied(THREE, 1, 2, 3), { version: 4, name: 'd', checksum: 'x', appliedAt: at, durationMs: 1 }];
    assertStateError(() => planUpgrade(compare(THREE, ahead), THREE), 'DATABASE_AHEAD', [4]);
    assertStateError(() => planUpgrade(compare(THREE, applied(THREE, 1, 3)), THREE), 'OUT_OF_ORDER', [2]);
  });

  it('with several problems, the code is the first one and the message lists them all', () => {
    const rows = [row(THREE[0], { checksum: 'other' }), row(THREE[2])];
    const error = assertStateError(() => planUpgrade(compare(THREE, rows), THREE), 'CHECKSUM_MISMATCH', [1, 2]);
    assert.match(error.message, /2 problems, nothing was run/);
    assert.match(error.message, /1_users\.sql/);
    assert.match(error.message, /2_groups\.sql/);
  });

  it('refuses before looking at the target', () => {
    const rows = [row(THREE[0], { checksum: 'other' })];
    assertStateError(() => planUpgrade(compare(THREE, rows), THREE, { target: 99 }), 'CHECKSUM_MISMATCH');
  });
});

describe('planUpgrade: allowOutOfOrder', () => {
  it('applies a pending version below the current one', () => {
    const comparison = compare(THREE, applied(THREE, 1, 3));
    assert.deepEqual(versions(planUpgrade(comparison, THREE, { allowOutOfOrder: true })), [2]);
  });

  it('does not excuse other problems', () => {
    const rows = [row(THREE[0], { checksum: 'other' }), row(THREE[2])];
    assertStateError(() => planUpgrade(compare(THREE, rows), THREE, { allowOutOfOrder: true }), 'CHECKSUM_MISMATCH', [1]);
  });

  it('false is the same as not set', () => {
    assertStateError(() => planUpgrade(compare(THREE, applied(THREE, 1, 3)), THREE, { allowOutOfOrder: false }), 'OUT_OF_ORDER');
  });
});

describe('planDowngrade', () => {
  const full = compare(THREE, applied(THREE, 1, 2, 3));

  it('reverts the versions above the target, newest first', () => {
    assert.deepEqual(versions(planDowngrade(full, THREE, 1)), [3, 2]);
    assert.deepEqual(versions(planDowngrade(full, THREE, '2')), [3]);
  });

  it('target 0 reverts everything', () => {
    assert.deepEqual(versions(planDowngrade(full, THREE, 0)), [3, 2, 1]);
    assert.deepEqual(versions(planDowngrade(full, THREE, '0')), [3, 2, 1]);
  });

  it('nothing to do at head or at the current version', () => {
    assert.deepEqual(planDowngrade(full, THREE, 'head'), []);
    assert.deepEqual(planDowngrade(full, THREE, 3), []);
  });

  it('pending versions are not reverted', () => {
    assert.deepEqual(versions(planDowngrade(compare(THREE, applied(THREE, 1, 2)), THREE, 0)), [2, 1]);
    assert.deepEqual(planDowngrade(compare(THREE, []), THREE, 0), []);
  });

  it('returns the migrations themselves, with their down scripts', () => {
    const [first] = planDowngrade(full, THREE, 2);
    assert.equal(first, THREE[2]);
    assert.equal(first?.down?.file, '3_memberships.down.sql');
  });

  it('UNKNOWN_TARGET for a version no file has', () => {
    assertStateError(() => planDowngrade(full, THREE, 7), 'UNKNOWN_TARGET', [7]);
    assertStateError(() => planDowngrade(full, THREE, 'nope'), 'UNKNOWN_TARGET');
  });

  it('MISSING_DOWN when one migration in the range has no down file, and nothing partial', () => {
    const files = migrationsOf({
      '1_a.sql': 'SELECT 1;',
      '1_a.down.sql': 'SELECT 1;',
      '2_b.sql': 'SELECT 2;',
      '3_c.sql': 'SELECT 3;',
      '3_c.down.sql': 'SELECT 3;',
    });
    const comparison = compare(files, applied(files, 1, 2, 3));
    // 3 alone can be reverted …
    assert.deepEqual(versions(planDowngrade(comparison, files, 2)), [3]);
    // … but going below 2 is refused as a whole, naming the file that lacks its down.
    const error = assertStateError(() => planDowngrade(comparison, files, 0), 'MISSING_DOWN', [2]);
    assert.ok(error.message.includes('2_b.down.sql'), error.message);
    assert.match(error.message, /nothing was changed/);
  });

  it('lists every migration that lacks a down file', () => {
    const files = migrationsOf({ '1_a.sql': 'SELECT 1;', '2_b.sql': 'SELECT 2;' });
    assertStateError(() => planDowngrade(compare(files, applied(files, 1, 2)), files, 0), 'MISSING_DOWN', [2, 1]);
  });

  it('MISSING_FILE when an applied version to revert has no file', () => {
    const withoutTwo = THREE.filter((migration) => migration.version !== 2);
    assertStateError(() => planDowngrade(compare(withoutTwo, applied(THREE, 1, 2, 3)), withoutTwo, 1), 'MISSING_FILE', [2]);
  });

  it('CHECKSUM_MISMATCH when a migration to revert was changed after it was applied', () => {
    const rows = [row(THREE[0]), row(THREE[1], { checksum: 'other' }), row(THREE[2])];
    assertStateError(() => planDowngrade(compare(THREE, rows), THREE, 1), 'CHECKSUM_MISMATCH', [2]);
    // A changed migration below the target is not in the way.
    assert.deepEqual(versions(planDowngrade(compare(THREE, rows), THREE, 2)), [3]);
  });
});

describe('planStamp', () => {
  it('records every unrecorded file up to the target', () => {
    const fresh = compare(THREE, []);
    assert.deepEqual(versions(planStamp(fresh, THREE, 2)), [1, 2]);
    assert.deepEqual(versions(planStamp(fresh, THREE, '3')), [1, 2, 3]);
    assert.deepEqual(versions(planStamp(fresh, THREE, 'head')), [1, 2, 3]);
  });

  it('skips versions already recorded', () => {
    assert.deepEqual(versions(planStamp(compare(THREE, applied(THREE, 1)), THREE, 'head')), [2, 3]);
    assert.deepEqual(planStamp(compare(THREE, applied(THREE, 1, 2, 3)), THREE, 3), []);
  });

  it('fills a gap below the current version', () => {
    assert.deepEqual(versions(planStamp(compare(THREE, applied(THREE, 1, 3)), THREE, 3)), [2]);
  });

  it('TARGET_BELOW_CURRENT when the target is below the applied version', () => {
    assertStateError(() => planStamp(compare(THREE, applied(THREE, 1, 2)), THREE, 1), 'TARGET_BELOW_CURRENT', [1]);
  });

  it('UNKNOWN_TARGET for a version no file has, including 0', () => {
    assertStateError(() => planStamp(compare(THREE, []), THREE, 4), 'UNKNOWN_TARGET', [4]);
    assertStateError(() => planStamp(compare(THREE, []), THREE, 0), 'UNKNOWN_TARGET', [0]);
  });
});

describe('parseTarget', () => {
  it('accepts head, numbers and digit strings', () => {
    assert.equal(parseTarget('head'), 'head');
    assert.equal(parseTarget(5), 5);
    assert.equal(parseTarget(0), 0);
    assert.equal(parseTarget('5'), 5);
    assert.equal(parseTarget('007'), 7);
    assert.equal(parseTarget(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  });

  it('refuses anything else with UNKNOWN_TARGET', () => {
    const bad: Array<number | string> = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '-1', '1.5', '', ' 1', '1 ', 'HEAD', 'Head', 'latest', '0x10', '1e3', '9007199254740992'];
    for (const target of bad) {
      const error = assertStateError(() => parseTarget(target), 'UNKNOWN_TARGET');
      assert.match(error.message, /head/);
    }
  });
});

describe('Comparison is plain data', () => {
  it('planning does not mutate the comparison or the migrations', () => {
    const comparison: Comparison = compare(THREE, applied(THREE, 1, 2, 3));
    const before = JSON.stringify(comparison);
    planDowngrade(comparison, THREE, 0);
    planStamp(comparison, THREE, 'head');
    planUpgrade(comparison, THREE);
    assert.equal(JSON.stringify(comparison), before);
    assert.deepEqual(versions(THREE), [1, 2, 3]);
  });
});
