// Rounds and sizes. `--quick` divides the rounds (for trying the harness out); the defaults keep one full
// `npm run bench` under about 4 minutes on the 2-core reference machine.
export interface Config {
  quick: boolean;
  helperRounds: number;
  /** Calls per side per round, PostgreSQL (16 callers share them) and SQLite. */
  pgCalls: number;
  sqliteCalls: number;
  migrateRounds: number;
  noopRounds: number;
  coldRounds: number;
  concurrentRounds: number;
  /** Fresh test databases per side (createTestDatabase against CREATE DATABASE + sync()). */
  cloneRounds: number;
  /** Migrations applied by the "apply" and "no-op sync" scenarios, and by the concurrency one. */
  migrations: number;
  concurrentMigrations: number;
  processes: number;
  /** The peers comparison (Kysely, Drizzle, knex): calls per side per round, and rounds. */
  peerPgCalls: number;
  peerSqliteCalls: number;
  peerRounds: number;
}

export function configFrom(argv: string[]): Config {
  const quick = argv.includes('--quick');
  const q = (full: number, small: number) => (quick ? small : full);
  return {
    quick,
    helperRounds: q(7, 2),
    pgCalls: q(8000, 800),
    sqliteCalls: q(50000, 4000),
    migrateRounds: q(5, 1),
    noopRounds: q(9, 2),
    coldRounds: q(9, 2),
    concurrentRounds: q(5, 1),
    cloneRounds: q(9, 3),
    migrations: 500,
    concurrentMigrations: 40,
    processes: 12,
    peerPgCalls: q(3000, 300),
    peerSqliteCalls: q(10000, 1000),
    peerRounds: q(5, 2),
  };
}
