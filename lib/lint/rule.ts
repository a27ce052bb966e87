import type { AstNode } from './parser.js';

/** One statement of a linted file, with its syntax tree. */
export interface LintStatement {
  /** The node type: `IndexStmt`, `AlterTableStmt`, … */
  type: string;
  /** The node's fields. */
  node: AstNode;
  /** Byte offset of its first token in the file. */
  start: number;
}

/** What a rule knows about the file around a statement. */
export interface LintContext {
  /** False when the file carries `-- sql-helpers:no-transaction`. */
  transactional: boolean;
  /** Every statement of the file, in order; `index` is the one being checked. */
  statements: LintStatement[];
  index: number;
  /** True when the table (a RangeVar node) was created by an earlier statement of this file: it is new and empty. */
  isNew(relation: unknown): boolean;
}

/** Where a rule found something (a byte offset in the file) and what, in a few words. */
export interface RuleHit {
  at: number;
  detail: string;
}

/** One lint rule: an id for `lint-ignore`, why the statement is dangerous, the safe recipe, and the check. */
export interface LintRule {
  id: string;
  why: string;
  recipe: string;
  check(statement: LintStatement, context: LintContext): RuleHit[];
}

/** The fields of `value` when it is the node `type` (`{ IndexStmt: {...} }` → its fields), else `undefined`. */
export function nodeOf(value: unknown, type: string): AstNode | undefined {
  const fields = (value as AstNode | undefined)?.[type];
  return typeof fields === 'object' && fields !== null ? (fields as AstNode) : undefined;
}

/** The commands of an `ALTER TABLE`, each `AlterTableCmd`'s fields. */
export function alterCommands(statement: LintStatement): AstNode[] {
  if (statement.type !== 'AlterTableStmt') return [];
  return ((statement.node.cmds as unknown[]) ?? []).map((cmd) => nodeOf(cmd, 'AlterTableCmd')).filter((cmd): cmd is AstNode => cmd !== undefined);
}

/** A RangeVar as written: `schema.table` or `table`. */
export function relationName(relation: unknown): string {
  const fields = relation as AstNode | undefined;
  return [fields?.schemaname, fields?.relname].filter((part) => typeof part === 'string').join('.');
}

/** A node's `location` when it has one. */
export function locationOf(fields: AstNode | undefined): number | undefined {
  return typeof fields?.location === 'number' ? fields.location : undefined;
}

/** Every node of `type` anywhere inside `value`. */
export function findNodes(value: unknown, type: string, found: AstNode[] = []): AstNode[] {
  if (Array.isArray(value)) for (const item of value) findNodes(item, type, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === type && typeof child === 'object' && child !== null) found.push(child as AstNode);
      findNodes(child, type, found);
    }
  }
  return found;
}
