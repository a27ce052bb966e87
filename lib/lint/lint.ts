import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MigrationFileError } from '../errors.js';
import { normalizeText } from '../migrations/files.js';
import { hasNoTransactionMarker, locate } from '../migrations/statements.js';
import type { AstNode, PgParser } from './parser.js';
import type { LintContext, LintStatement } from './rule.js';

// The rules and the parser loader are imported on first use: the CLI loads this module for every command,
// and lints only on `lint` and `sync --lint`.
let engine: Promise<{ rules: typeof import('./rules/index.js').LINT_RULES; relationName: typeof import('./rule.js').relationName; loadParser: typeof import('./parser.js').loadParser }> | undefined;
const loadEngine = () =>
  (engine ??= Promise.all([import('./rules/index.js'), import('./rule.js'), import('./parser.js')]).then(([rules, rule, parser]) => ({
    rules: rules.LINT_RULES,
    relationName: rule.relationName,
    loadParser: parser.loadParser,
  })));

/** One dangerous statement: where, which rule, what, why, and the safe way. */
export interface LintFinding {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
  why: string;
  recipe: string;
}

/** What `lintFiles` checked, skipped and found. */
export interface LintReport {
  findings: LintFinding[];
  checked: string[];
  /** SQLite-only files (`.sqlite.sql`): the PostgreSQL rules do not apply to them. */
  skipped: string[];
}

const IGNORE = /^--[ \t]*sql-helpers:[ \t]*lint-ignore[ \t]+(.+?)[ \t]*$/;
const SQLITE_ONLY = /\.sqlite(\.down)?\.sql$/;

/** The id a syntax error is reported under. */
export const SYNTAX_RULE = 'syntax-error';

/** UTF-8 byte offsets (what the parser reports) to 1-based line and column in characters. */
class Positions {
  readonly #bytes: Buffer;
  constructor(readonly text: string) {
    this.#bytes = Buffer.from(text, 'utf8');
  }
  at(byteOffset: number): { line: number; column: number } {
    return locate(this.text, this.#bytes.subarray(0, byteOffset).toString('utf8').length);
  }
}

/**
 * Lints one PostgreSQL migration's text with the real parser. `file` names it in findings. A comment line
 * `-- sql-helpers:lint-ignore <rule-id>[, <rule-id>…]` right before a statement silences those rules for it alone.
 */
export async function lintSql(file: string, source: string, parser?: PgParser): Promise<LintFinding[]> {
  const { rules: LINT_RULES, relationName, loadParser } = await loadEngine();
  const pg = parser ?? (await loadParser());
  const text = normalizeText(source);
  const positions = new Positions(text);
  const finding = (at: number, rule: string, message: string, why: string, recipe: string): LintFinding => ({ file, ...positions.at(at), rule, message, why, recipe });
  let tree;
  try {
    tree = await pg.parse(text);
  } catch (error) {
    const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
    return [finding(cursor, SYNTAX_RULE, (error as Error).message, 'PostgreSQL cannot parse this file, so it cannot run', 'fix the syntax')];
  }
  // Comments and the first token of each statement come from the parser's own scanner: a "--" inside a string
  // or a dollar-quoted body is not a comment, and a statement starts after the comments in front of it.
  const tokens = (await pg.scan(text)).tokens;
  const statements: Array<LintStatement & { ignored: Set<string>; ignoreAt: number }> = [];
  let next = 0;
  let previousEnd = 0;
  for (const raw of tree.stmts ?? []) {
    const [type, node] = Object.entries(raw.stmt)[0] as [string, AstNode];
    const from = raw.stmt_location ?? 0;
    // The parser starts the first statement after its comments, later ones right after the previous semicolon.
    while (next < tokens.length && tokens[next]!.start < Math.min(from, previousEnd)) next++;
    previousEnd = from + (raw.stmt_len ?? 0);
    const ignored = new Set<string>();
    let ignoreAt = -1;
    for (; next < tokens.length && (/COMMENT$/.test(tokens[next]!.tokenName) || tokens[next]!.text === ';'); next++) {
      const match = IGNORE.exec(tokens[next]!.text);
      if (match) {
        ignoreAt = tokens[next]!.start;
        for (const id of match[1]!.split(/[\s,]+/)) ignored.add(id);
      }
    }
    statements.push({ type, node, start: tokens[next]?.start ?? from, ignored, ignoreAt });
  }

  const known = new Set(LINT_RULES.map((rule) => rule.id));
  const created = new Set<string>();
  const findings: LintFinding[] = [];
  const transactional = !hasNoTransactionMarker(text);
  for (const [index, statement] of statements.entries()) {
    for (const id of statement.ignored) {
      if (!known.has(id)) {
        const { line } = positions.at(statement.ignoreAt);
        throw new MigrationFileError(`${file}:${line}: lint-ignore names an unknown rule "${id}"; the rules are ${[...known].join(', ')}`, {
          code: 'UNKNOWN_LINT_RULE',
          files: [file],
          line,
        });
      }
    }
    const context: LintContext = { transactional, statements, index, isNew: (relation) => created.has(relationName(relation)) };
    for (const rule of LINT_RULES) {
      if (statement.ignored.has(rule.id)) continue;
      for (const hit of rule.check(statement, context)) findings.push(finding(hit.at, rule.id, hit.detail, rule.why, rule.recipe));
    }
    const made = statement.type === 'CreateStmt' ? statement.node.relation : statement.type === 'CreateTableAsStmt' ? (statement.node.into as AstNode)?.rel : undefined;
    if (made !== undefined) created.add(relationName(made));
  }
  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Lints migration files by path; `.sqlite.sql` files are skipped (reported in `skipped`). Needs `libpg-query`. */
export async function lintFiles(paths: string[]): Promise<LintReport> {
  const report: LintReport = { findings: [], checked: [], skipped: [] };
  const parser = paths.some((path) => !SQLITE_ONLY.test(path)) ? await (await loadEngine()).loadParser() : undefined;
  for (const path of paths) {
    if (SQLITE_ONLY.test(path)) {
      report.skipped.push(path);
      continue;
    }
    let text;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new MigrationFileError(`cannot read ${JSON.stringify(path)}: ${(error as Error).message}`, { code: 'UNREADABLE_FILE', files: [path], cause: error });
    }
    report.findings.push(...(await lintSql(path, text, parser)));
    report.checked.push(path);
  }
  return report;
}

/** The up files of `versions` in `dir` that PostgreSQL would run or that apply to both (not down files). */
export async function migrationFilesOf(dir: string, versions: number[]): Promise<string[]> {
  const wanted = new Set(versions);
  const files = (await readdir(dir)).filter((file) => /^\d+_[^.]+(\.(postgres|sqlite))?\.sql$/.test(file) && wanted.has(Number(/^\d+/.exec(file)![0])));
  return files.sort().map((file) => join(dir, basename(file)));
}
