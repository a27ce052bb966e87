import type { Dialect } from '../driver/driver.js';

/** One statement of a migration file, with where it starts (1-based line and column). */
export interface Statement {
  text: string;
  offset: number;
  line: number;
  column: number;
  /** The first word, upper-cased (`CREATE`, `COMMIT`, …), or '' when the statement has none. */
  keyword: string;
}

/** 1-based line and column of a UTF-16 offset into `text`. */
export function locate(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: [...text.slice(lineStart, end)].length + 1 };
}

/** PostgreSQL reports positions in characters; JavaScript strings index UTF-16 units. */
export function offsetOfCharacter(text: string, characterIndex: number): number {
  let offset = 0;
  for (let seen = 0; seen < characterIndex && offset < text.length; seen++) {
    offset += (text.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  }
  return offset;
}

// Character-code tests: the splitter runs on every migration file at start-up, so it avoids regexes per character.
function isWordCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 36 || code >= 128;
}
const isWordChar = (c: string | undefined) => c !== undefined && isWordCode(c.charCodeAt(0));
const isSpaceCode = (code: number) => code === 32 || (code >= 9 && code <= 13);

/**
 * The statement-completion states of SQLite's own `sqlite3_complete()`: a `;` ends a statement except
 * inside `CREATE [TEMP] TRIGGER … BEGIN … END;`, so trigger bodies stay whole.
 */
const enum TriggerState { Start, Normal, Explain, Create, Trigger, Semi, End }

function nextTriggerState(state: TriggerState, word: string): TriggerState {
  switch (state) {
    case TriggerState.Start:
      return word === 'EXPLAIN' ? TriggerState.Explain : word === 'CREATE' ? TriggerState.Create : TriggerState.Normal;
    case TriggerState.Explain:
      return word === 'CREATE' ? TriggerState.Create : TriggerState.Normal;
    case TriggerState.Create:
      if (word === 'TEMP' || word === 'TEMPORARY') return TriggerState.Create;
      return word === 'TRIGGER' ? TriggerState.Trigger : TriggerState.Normal;
    case TriggerState.Semi:
      return word === 'END' ? TriggerState.End : TriggerState.Trigger;
    case TriggerState.End:
      return TriggerState.Trigger;
    default:
      return state;
  }
}

/** A script read the way the database reads it: its statements, and the `--` comments that stand on a line of their own. */
export interface ScannedScript {
  statements: Statement[];
  /** Each `--` comment that is alone on its line (not inside a string, dollar quote or block comment). */
  commentLines: CommentLine[];
}

/** A `--` comment alone on its line: its text without the newline, and where it starts in the script. */
export interface CommentLine {
  text: string;
  offset: number;
}

/**
 * Splits a script into statements the way the database would: quotes, comments, PostgreSQL dollar
 * quotes and E'' strings, and SQLite trigger bodies do not end a statement. Comment-only pieces are dropped.
 */
export function splitStatements(text: string, dialect: Dialect): Statement[] {
  return scanScript(text, dialect).statements;
}

// What can end a statement or open a comment, string or quoted name, by dialect (`$` opens dollar quotes).
const PG_SIGNIFICANT = /[-/'"$;]/g;
const SQLITE_SIGNIFICANT = /[-/'"`[;]/g;
// The first character after a word (letters, digits, _, $ and anything beyond ASCII, as isWordCode says).
const WORD_END = /[^A-Za-z0-9_$\u0080-\uffff]/g;
const PG_COMMENT_DELIMITER = /\/\*|\*\//g;
const SQLITE_COMMENT_DELIMITER = /\*\//g;

/** The offset of the quote that closes the string or name opened before `from` (`text.length` if none). */
function endOfQuoted(text: string, from: number, quote: string, backslashEscapes: boolean): number {
  for (let i = from; ; ) {
    const close = text.indexOf(quote, i);
    if (close < 0) return text.length;
    if (backslashEscapes) {
      // An odd run of backslashes before it escapes the quote.
      let backslashes = 0;
      while (text[close - 1 - backslashes] === '\\' && close - 1 - backslashes >= i) backslashes++;
      if (backslashes % 2 === 1) {
        i = close + 1;
        continue;
      }
    }
    if (text[close + 1] !== quote) return close;
    i = close + 2;
  }
}

const onlySpaceBefore = (text: string, at: number) => /^[ \t]*$/.test(text.slice(text.lastIndexOf('\n', at - 1) + 1, at));

/** The one lexer of migration files: statements for running, comment lines for markers. */
export function scanScript(text: string, dialect: Dialect): ScannedScript {
  const statements: Statement[] = [];
  const commentLines: CommentLine[] = [];
  let contentStart = -1;
  let keyword = '';
  let trigger = TriggerState.Start;
  const n = text.length;
  let i = 0;
  // Line and column are found incrementally: statements come in order, so the text is scanned once.
  let scanned = 0;
  let line = 1;
  let lineStart = 0;

  const finish = (end: number) => {
    if (contentStart >= 0) {
      for (let eol = text.indexOf('\n', scanned); eol >= 0 && eol < contentStart; eol = text.indexOf('\n', eol + 1)) {
        line++;
        lineStart = eol + 1;
      }
      scanned = contentStart;
      const column = [...text.slice(lineStart, contentStart)].length + 1;
      statements.push({ text: text.slice(contentStart, end).trimEnd(), offset: contentStart, line, column, keyword });
    }
    contentStart = -1;
    keyword = '';
    trigger = TriggerState.Start;
  };
  const markContent = (at: number) => {
    if (contentStart < 0) contentStart = at;
  };

  const significant = dialect === 'postgres' ? PG_SIGNIFICANT : SQLITE_SIGNIFICANT;
  while (i < n) {
    if (contentStart >= 0 && keyword !== '' && (dialect === 'postgres' || trigger === TriggerState.Normal || trigger === TriggerState.Trigger)) {
      // Inside a statement whose first word is read, only these characters can change anything: jump to the next.
      significant.lastIndex = i;
      i = significant.exec(text)?.index ?? n;
      if (i === n) break;
    }
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const eol = text.indexOf('\n', i);
      if (onlySpaceBefore(text, i)) commentLines.push({ text: text.slice(i, eol < 0 ? n : eol), offset: i });
      i = eol < 0 ? n : eol + 1;
    } else if (c === '/' && next === '*') {
      // PostgreSQL nests block comments; SQLite does not.
      const delimiter = dialect === 'postgres' ? PG_COMMENT_DELIMITER : SQLITE_COMMENT_DELIMITER;
      delimiter.lastIndex = i + 2;
      for (let depth = 1; depth > 0; ) {
        const found = delimiter.exec(text);
        if (found === null) {
          i = n;
          break;
        }
        depth += found[0] === '*/' ? -1 : 1;
        i = delimiter.lastIndex;
      }
    } else if (c === "'" || c === '"' || (dialect === 'sqlite' && c === '`')) {
      markContent(i);
      const backslashEscapes = c === "'" && dialect === 'postgres' && (text[i - 1] === 'e' || text[i - 1] === 'E') && !isWordChar(text[i - 2]);
      i = endOfQuoted(text, i + 1, c, backslashEscapes) + 1;
      if (trigger === TriggerState.Start) trigger = TriggerState.Normal;
    } else if (dialect === 'sqlite' && c === '[') {
      markContent(i);
      const close = text.indexOf(']', i);
      i = close < 0 ? n : close + 1;
    } else if (dialect === 'postgres' && c === '$' && !isWordChar(text[i - 1])) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 64))?.[0];
      markContent(i);
      if (tag) {
        const close = text.indexOf(tag, i + tag.length);
        i = close < 0 ? n : close + tag.length;
      } else {
        i++;
      }
    } else if (c === ';') {
      if (dialect === 'sqlite' && (trigger === TriggerState.Trigger || trigger === TriggerState.Semi || trigger === TriggerState.End)) {
        if (trigger === TriggerState.End) {
          finish(i);
        } else {
          trigger = TriggerState.Semi;
        }
        i++;
      } else {
        finish(i);
        i++;
      }
    } else if (isWordCode(text.charCodeAt(i))) {
      markContent(i);
      WORD_END.lastIndex = i + 1;
      const j = WORD_END.exec(text)?.index ?? n;
      // Only the first word and, on SQLite, the words around CREATE TRIGGER … END need reading.
      if (keyword === '' || (dialect === 'sqlite' && trigger !== TriggerState.Normal && trigger !== TriggerState.Trigger)) {
        const word = text.slice(i, j).toUpperCase();
        if (keyword === '') keyword = /^[A-Z]/.test(word) ? word : '';
        trigger = nextTriggerState(trigger, word);
      }
      i = j;
    } else {
      if (!isSpaceCode(text.charCodeAt(i))) {
        markContent(i);
        if (trigger === TriggerState.Start) trigger = TriggerState.Normal;
      }
      i++;
    }
  }
  finish(n);
  return { statements, commentLines };
}

const NO_TRANSACTION_MARKER = /^--[ \t]*sql-helpers:[ \t]*no-transaction[ \t]*$/i;

/** True when one of the comment lines is the marker `-- sql-helpers:no-transaction`. */
export function isNoTransaction(commentLines: readonly CommentLine[]): boolean {
  return commentLines.some((line) => NO_TRANSACTION_MARKER.test(line.text));
}

/**
 * True when the file opts out of running in a transaction with a line `-- sql-helpers:no-transaction`: a real
 * comment line, not text inside a block comment, a string or a dollar quote.
 */
export function hasNoTransactionMarker(text: string, dialect: Dialect = 'postgres'): boolean {
  return isNoTransaction(scanScript(text, dialect).commentLines);
}

/**
 * Keywords that would end or split the transaction the migrator wraps each file in, or release or roll back to
 * the savepoint it runs a SQLite migration in (`ROLLBACK TO` starts with ROLLBACK).
 */
export const TRANSACTION_CONTROL = new Set(['BEGIN', 'COMMIT', 'ROLLBACK', 'END', 'ABORT', 'START', 'SAVEPOINT', 'RELEASE']);
