// The `sql-helpers/testing` entry point: test databases from templates. The main entry never imports it.
export {
  createTestDatabase,
  cleanupTestDatabases,
  type TestDatabase,
  type TestDatabaseOptions,
  type CleanupOptions,
} from './test-database.js';
export { withRollback } from './rollback.js';
export type { CloneStrategy } from './postgres-templates.js';
