import type { LintRule, LintStatement } from '../rule.js';
import { alterCommands, nodeOf } from '../rule.js';

/** Statements that build or drop CONCURRENTLY, which PostgreSQL refuses inside a transaction block. */
function isConcurrent(statement: LintStatement): boolean {
  const node = statement.node;
  if ((statement.type === 'IndexStmt' || statement.type === 'DropStmt') && node.concurrent === true) return true;
  if (statement.type === 'ReindexStmt') return ((node.params as unknown[]) ?? []).some((param) => nodeOf(param, 'DefElem')?.defname === 'concurrently');
  return alterCommands(statement).some((command) => command.subtype === 'AT_DetachPartition' && nodeOf(command.def, 'PartitionCmd')?.concurrent === true);
}

/** CONCURRENTLY in a transactional file, or mixed with other statements in a no-transaction file. */
export const concurrentlyInTransaction: LintRule = {
  id: 'concurrently-in-transaction',
  why:
    'CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION CONCURRENTLY cannot run in a transaction: in a ' +
    'transactional file the migration fails; in a no-transaction file next to other statements, a failure leaves the ones before it ' +
    'applied and the version unrecorded, so the next run repeats them',
  recipe: 'put each CONCURRENTLY statement alone in a file that starts with "-- sql-helpers:no-transaction", written to be re-run (IF NOT EXISTS / IF EXISTS)',
  check(statement, context) {
    if (context.transactional) {
      return isConcurrent(statement) ? [{ at: statement.start, detail: 'CONCURRENTLY in a file that runs in a transaction (no "-- sql-helpers:no-transaction" line)' }] : [];
    }
    if (isConcurrent(statement) || !context.statements.some(isConcurrent)) return [];
    return [{ at: statement.start, detail: 'a statement next to CONCURRENTLY ones in a no-transaction file' }];
  },
};
