import type { LintRule } from '../rule.js';
import { relationName } from '../rule.js';

/** `CREATE INDEX` without `CONCURRENTLY` on a table that already exists. */
export const requireConcurrentIndex: LintRule = {
  id: 'require-concurrent-index',
  why: 'CREATE INDEX without CONCURRENTLY holds a SHARE lock on the table while it reads every row: writes to it wait for the whole build',
  recipe:
    'build it in a file of its own that starts with "-- sql-helpers:no-transaction": CREATE INDEX CONCURRENTLY IF NOT EXISTS …; ' +
    'if the build fails, drop the INVALID index it leaves (DROP INDEX CONCURRENTLY IF EXISTS …) before running it again',
  check(statement, context) {
    if (statement.type !== 'IndexStmt' || statement.node.concurrent === true || context.isNew(statement.node.relation)) return [];
    return [{ at: statement.start, detail: `CREATE INDEX on existing table ${relationName(statement.node.relation)} without CONCURRENTLY` }];
  },
};
