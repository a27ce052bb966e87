import { MigrationStateError } from '../errors.js';
import { versionDigitsOf, type Migration } from './files.js';

/** A row of the version table. */
export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: Date;
  durationMs: number;
}

/** Where one migration stands: `changed` = applied but edited since; `missing` = applied but its file is gone. */
export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing';

/** One line of the listing: a file, a version-table row, or both. */
export interface MigrationListing {
  version: number;
  name: string;
  state: MigrationState;
  file: string | undefined;
  hasDown: boolean;
  /** True when the file runs nothing on this database (comments only, or written for the other database alone). */
  noop: boolean;
  appliedAt: Date | undefined;
  durationMs: number | undefined;
}

/** A disagreement between the files and the version table. */
export interface Problem {
  code: 'CHECKSUM_MISMATCH' | 'MISSING_FILE' | 'DATABASE_AHEAD' | 'OUT_OF_ORDER';
  version: number;
  message: string;
}

/** Files and recorded versions side by side: what is pending, what is wrong, and the listing. */
export interface Comparison {
  listing: MigrationListing[];
  pending: Migration[];
  problems: Problem[];
  current: number | null;
  latest: number | null;
}

/** The highest recorded version, or `null` when none is recorded. */
export function highestVersion(applied: AppliedMigration[]): number | null {
  return applied.reduce<number | null>((max, row) => (max === null || row.version > max ? row.version : max), null);
}

// The version table keeps the name, not the file name: the zero-padding is the one the other files use.
function lostFileName(version: number, name: string, migrations: Migration[]): string {
  const widths = new Set(migrations.map((migration) => versionDigitsOf(migration.up.file)?.length ?? 0));
  const width = widths.size === 1 ? [...widths][0]! : 0;
  return `${String(version).padStart(width, '0')}_${name}.sql`;
}

/** Compares the files with the version table; pure. */
export function compare(migrations: Migration[], applied: AppliedMigration[]): Comparison {
  const files = new Map(migrations.map((migration) => [migration.version, migration]));
  const recorded = new Map(applied.map((row) => [row.version, row]));
  const latest = migrations.at(-1)?.version ?? null;
  const current = highestVersion(applied);
  const problems: Problem[] = [];
  const listing: MigrationListing[] = [];

  for (const row of applied) {
    const migration = files.get(row.version);
    if (migration) {
      if (migration.up.checksum !== row.checksum) {
        problems.push({
          code: 'CHECKSUM_MISMATCH',
          version: row.version,
          message:
            `${migration.up.file} was changed after it was applied (recorded checksum ${row.checksum.slice(0, 12)}…, ` +
            `file ${migration.up.checksum.slice(0, 12)}…); restore it and put the change in a new migration`,
        });
      }
    } else if (latest === null || row.version > latest) {
      problems.push({
        code: 'DATABASE_AHEAD',
        version: row.version,
        message:
          `the database has version ${row.version} (${row.name}) applied, newer than every file here ` +
          `(latest ${latest ?? 'none'}); these files are older than the database: deploy the newer ones`,
      });
    } else {
      problems.push({
        code: 'MISSING_FILE',
        version: row.version,
        message: `version ${row.version} (${row.name}) was applied but its file is gone; restore ${lostFileName(row.version, row.name, migrations)}`,
      });
    }
  }

  const pending = migrations.filter((migration) => !recorded.has(migration.version));
  for (const migration of pending) {
    if (current !== null && migration.version < current) {
      problems.push({
        code: 'OUT_OF_ORDER',
        version: migration.version,
        message:
          `${migration.up.file} is pending but the newer version ${current} is already applied; ` +
          'renumber it above the applied versions, or allow out-of-order migrations (allowOutOfOrder)',
      });
    }
  }

  const versions = [...new Set([...files.keys(), ...recorded.keys()])].sort((a, b) => a - b);
  for (const version of versions) {
    const migration = files.get(version);
    const row = recorded.get(version);
    let state: MigrationState = 'pending';
    if (row && !migration) state = 'missing';
    else if (row && migration) state = migration.up.checksum === row.checksum ? 'applied' : 'changed';
    listing.push({
      version,
      name: migration?.name ?? row!.name,
      state,
      file: migration?.up.file,
      hasDown: migration?.down !== undefined,
      noop: migration?.up.noop ?? false,
      appliedAt: row?.appliedAt,
      durationMs: row?.durationMs,
    });
  }
  return { listing, pending, problems, current, latest };
}

/** A version number, or `'head'` for the latest file. */
export type Target = number | 'head';

function refuse(problems: Problem[]): MigrationStateError {
  const [first] = problems;
  return new MigrationStateError(
    problems.length === 1 ? first!.message : `${problems.length} problems, nothing was run:\n- ${problems.map((p) => p.message).join('\n- ')}`,
    { code: first!.code, versions: problems.map((problem) => problem.version) },
  );
}

/** Parses a CLI or API target: `head`, or a non-negative integer version. */
export function parseTarget(target: Target | string): Target {
  if (target === 'head') return 'head';
  const version = typeof target === 'number' ? target : /^\d+$/.test(target) ? Number(target) : NaN;
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new MigrationStateError(`target ${JSON.stringify(target)} is neither "head" nor a version number`, { code: 'UNKNOWN_TARGET' });
  }
  return version;
}

function resolveKnownTarget(target: Target | string, migrations: Migration[], allowZero: boolean): number {
  const parsed = parseTarget(target);
  if (parsed === 'head') return migrations.at(-1)?.version ?? 0;
  if ((allowZero && parsed === 0) || migrations.some((migration) => migration.version === parsed)) return parsed;
  const known = migrations.map((migration) => migration.version);
  throw new MigrationStateError(
    `there is no migration with version ${parsed}; known versions: ${known.length ? known.join(', ') : 'none'}${allowZero ? ' (or 0 for none)' : ''}`,
    { code: 'UNKNOWN_TARGET', versions: [parsed] },
  );
}

/** The migrations `upgrade(target)` applies, in order; throws on drift, out-of-order or an unknown target. */
export function planUpgrade(
  comparison: Comparison,
  migrations: Migration[],
  options: { target?: Target | string; allowOutOfOrder?: boolean } = {},
): Migration[] {
  const problems = refusals(comparison, options.allowOutOfOrder ?? false);
  if (problems.length > 0) throw refuse(problems);
  const target = resolveKnownTarget(options.target ?? 'head', migrations, false);
  if (comparison.current !== null && target < comparison.current) {
    throw new MigrationStateError(`version ${comparison.current} is applied, above the target ${target}; use downgrade to go back`, {
      code: 'TARGET_BELOW_CURRENT',
      versions: [target],
    });
  }
  return comparison.pending.filter((migration) => migration.version <= target);
}

/** The migrations `downgrade(target)` reverts, newest first; throws before anything runs if one has no down file. */
export function planDowngrade(comparison: Comparison, migrations: Migration[], target: Target | string): Migration[] {
  const version = resolveKnownTarget(target, migrations, true);
  const toRevert = comparison.listing.filter((entry) => entry.state !== 'pending' && entry.version > version).reverse();
  return revertible(toRevert, migrations, `cannot downgrade to ${version}`);
}

/** The migration `rollback()` reverts: the highest applied version, alone; none when nothing is applied. */
export function planRollback(comparison: Comparison, migrations: Migration[]): Migration[] {
  const last = comparison.listing.filter((entry) => entry.state !== 'pending').at(-1);
  return last === undefined ? [] : revertible([last], migrations, `cannot roll back version ${last.version}`);
}

// Every entry must be applied as its file says and have a down file: otherwise nothing is reverted.
function revertible(toRevert: MigrationListing[], migrations: Migration[], what: string): Migration[] {
  const files = new Map(migrations.map((migration) => [migration.version, migration]));
  const blocking = toRevert.filter((entry) => entry.state !== 'applied' || !entry.hasDown);
  if (blocking.length > 0) {
    const reasons = blocking.map((entry) =>
      entry.state === 'missing'
        ? `version ${entry.version} (${entry.name}) has no file`
        : entry.state === 'changed'
          ? `${entry.file} was changed after it was applied`
          : `${entry.file} has no down file (${entry.file!.replace(/\.sql$/, '.down.sql')})`,
    );
    throw new MigrationStateError(`${what}, nothing was changed: ${reasons.join('; ')}`, {
      code: blocking.some((entry) => entry.state === 'applied') ? 'MISSING_DOWN' : blocking[0]!.state === 'missing' ? 'MISSING_FILE' : 'CHECKSUM_MISMATCH',
      versions: blocking.map((entry) => entry.version),
    });
  }
  return toRevert.map((entry) => files.get(entry.version)!);
}

/** The migrations `stamp(target)` records without running: every unrecorded file up to `target`. */
export function planStamp(comparison: Comparison, migrations: Migration[], target: Target | string): Migration[] {
  const version = resolveKnownTarget(target, migrations, false);
  if (comparison.current !== null && comparison.current > version) {
    throw new MigrationStateError(`version ${comparison.current} is applied, above ${version}; use downgrade to go back`, {
      code: 'TARGET_BELOW_CURRENT',
      versions: [version],
    });
  }
  return comparison.pending.filter((migration) => migration.version <= version);
}

/**
 * The migrations to record, without running them, so that exactly `versions` are applied (adopting a database
 * another tool migrated). Empty when exactly those are recorded already; refuses when other versions are, when
 * a version has no file, or when it would leave an older file pending (unless out-of-order is allowed).
 */
export function planStampExactly(comparison: Comparison, migrations: Migration[], versions: number[], allowOutOfOrder = false): Migration[] {
  const wanted = new Set(versions);
  const files = new Map(migrations.map((migration) => [migration.version, migration]));
  const recorded = comparison.listing.filter((entry) => entry.state !== 'pending').map((entry) => entry.version);
  if (recorded.length > 0) {
    if (recorded.length === wanted.size && recorded.every((version) => wanted.has(version))) return [];
    throw new MigrationStateError(
      `the database already has sql-helpers versions recorded (${recorded.join(', ')}), not the ${wanted.size} to adopt; nothing was stamped`,
      { code: 'ADOPT_ALREADY_RECORDED', versions: recorded },
    );
  }
  const missing = versions.filter((version) => !files.has(version));
  if (missing.length > 0) {
    throw new MigrationStateError(`version(s) ${missing.join(', ')} are applied but have no file here; nothing was stamped: restore them`, {
      code: 'ADOPT_MISSING_FILE',
      versions: missing,
    });
  }
  const highest = Math.max(...versions);
  const skipped = migrations.filter((migration) => migration.version < highest && !wanted.has(migration.version)).map((migration) => migration.version);
  if (skipped.length > 0 && !allowOutOfOrder) {
    throw new MigrationStateError(
      `version(s) ${skipped.join(', ')} are not applied but older than the applied version ${highest}; nothing was stamped: ` +
        'apply them with the old tool first, or allow out-of-order migrations (allowOutOfOrder)',
      { code: 'ADOPT_GAP', versions: skipped },
    );
  }
  return versions.map((version) => files.get(version)!).sort((a, b) => a.version - b.version);
}

/**
 * Whether `sync()` would end up to date without a person stepping in: nothing pending and nothing it refuses
 * (drift, a missing file, an out-of-order file unless allowed, a database ahead of the files). Pure.
 */
export function refusals(comparison: Comparison, allowOutOfOrder: boolean): Problem[] {
  return comparison.problems.filter((problem) => !(allowOutOfOrder && problem.code === 'OUT_OF_ORDER'));
}
