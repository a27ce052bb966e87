import type { LintRule } from '../rule.js';
import { addColumnVolatileDefault } from './add-column-volatile-default.js';
import { columnTypeChange } from './column-type-change.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { constraintWithoutNotValid } from './constraint-without-not-valid.js';
import { dropOrRename } from './drop-or-rename.js';
import { requireConcurrentIndex } from './require-concurrent-index.js';
import { setNotNullWithoutCheck } from './set-not-null-without-check.js';

/** Every rule `lint` applies, in the order docs/lint.md lists them. A new rule is one file and one line here. */
export const LINT_RULES: readonly LintRule[] = [
  requireConcurrentIndex,
  constraintWithoutNotValid,
  setNotNullWithoutCheck,
  columnTypeChange,
  addColumnVolatileDefault,
  dropOrRename,
  concurrentlyInTransaction,
];
