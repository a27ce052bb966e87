import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  TRANSACTION_CONTROL,
  hasNoTransactionMarker,
  locate,
  offsetOfCharacter,
  splitStatements,
  type Statement,
} from '../lib/migrations/statements.js';

const texts = (statements: Statement[]) => statements.map((statement) => statement.text);

/** Every statement's offset points at its own text in the input. */
function assertOffsetsPointAtText(input: string, statements: Statement[]) {
  for (const statement of statements) {
    assert.equal(input.slice(statement.offset, statement.offset + statement.text.length), statement.text);
  }
}

describe('splitStatements: plain semicolons end statements', () => {
  for (const dialect of ['postgres', 'sqlite'] as const) {
    it(`splits on ; and drops the semicolon and surrounding whitespace (${dialect})`, () => {
      const input = 'CREATE TABLE a (x int);\n\n  INSERT INTO a VALUES (1) ;\nSELECT 1';
      const statements = splitStatements(input, dialect);
      assert.deepEqual(texts(statements), ['CREATE TABLE a (x int)', 'INSERT INTO a VALUES (1)', 'SELECT 1']);
      assertOffsetsPointAtText(input, statements);
    });

    it(`returns nothing for empty or whitespace-only text (${dialect})`, () => {
      assert.deepEqual(splitStatements('', dialect), []);
      assert.deepEqual(splitStatements('  \n\t\n ', dialect), []);
      assert.deepEqual(splitStatements(';;\n ; ', dialect), []);
    });

    it(`keeps a final statement without a semicolon (${dialect})`, () => {
      assert.deepEqual(texts(splitStatements('SELECT 1;SELECT 2', dialect)), ['SELECT 1', 'SELECT 2']);
    });
  }
});

describe('splitStatements: single-quoted strings', () => {
  for (const dialect of ['postgres', 'sqlite'] as const) {
    it(`does not split on ; inside a string (${dialect})`, () => {
      const input = "INSERT INTO t VALUES ('a;b');\nSELECT 2;";
      assert.deepEqual(texts(splitStatements(input, dialect)), ["INSERT INTO t VALUES ('a;b')", 'SELECT 2']);
    });

    it(`treats '' as an escaped quote, not the end of the string (${dialect})`, () => {
      const input = "INSERT INTO t VALUES ('it''s; fine'); SELECT 2;";
      assert.deepEqual(texts(splitStatements(input, dialect)), ["INSERT INTO t VALUES ('it''s; fine')", 'SELECT 2']);
    });

    it(`does not treat -- or /* inside a string as a comment (${dialect})`, () => {
      const input = "SELECT '-- not a comment; really'; SELECT '/* nor; this'; SELECT 3;";
      assert.deepEqual(texts(splitStatements(input, dialect)), [
        "SELECT '-- not a comment; really'",
        "SELECT '/* nor; this'",
        'SELECT 3',
      ]);
    });
  }

  it('in a standard PostgreSQL string a backslash is an ordinary character', () => {
    const input = "SELECT 'a\\'; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ["SELECT 'a\\'", 'SELECT 2']);
  });

  it("E'...' strings: \\' does not end the string (PostgreSQL)", () => {
    const input = "INSERT INTO t VALUES (E'it\\'s; here'); SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ["INSERT INTO t VALUES (E'it\\'s; here')", 'SELECT 2']);
  });

  it("e'...' (lower case) strings are escape strings too (PostgreSQL)", () => {
    const input = "SELECT e'a\\';b'; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ["SELECT e'a\\';b'", 'SELECT 2']);
  });

  it("E'...' strings: '' is an escaped quote and the string stays an escape string after it (PostgreSQL)", () => {
    const input = "SELECT E'a''\\';b'; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ["SELECT E'a''\\';b'", 'SELECT 2']);
  });

  it("E'\\\\' ends after the escaped backslash (PostgreSQL)", () => {
    const input = "SELECT E'\\\\'; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ["SELECT E'\\\\'", 'SELECT 2']);
  });

  it("a word ending in e before a quote is not an E'' prefix (PostgreSQL)", () => {
    // `some'...'` is not valid SQL, but the splitter must not read backslash escapes after a longer word.
    const input = "SELECT some'a\\'; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ["SELECT some'a\\'", 'SELECT 2']);
  });

  it("E'' has no meaning on SQLite: a backslash does not escape the quote", () => {
    const input = "SELECT E'a\\'; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), ["SELECT E'a\\'", 'SELECT 2']);
  });
});

describe('splitStatements: quoted identifiers', () => {
  for (const dialect of ['postgres', 'sqlite'] as const) {
    it(`does not split on ; inside "double quotes", with "" escapes (${dialect})`, () => {
      const input = 'CREATE TABLE "odd;name" ("a""b;c" int); SELECT 2;';
      assert.deepEqual(texts(splitStatements(input, dialect)), ['CREATE TABLE "odd;name" ("a""b;c" int)', 'SELECT 2']);
    });
  }

  it('SQLite: `backticks` hide semicolons', () => {
    const input = 'CREATE TABLE `a;b` (`c;d` TEXT); SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), ['CREATE TABLE `a;b` (`c;d` TEXT)', 'SELECT 2']);
  });

  it('SQLite: [brackets] hide semicolons and quotes', () => {
    const input = "CREATE TABLE [a;b] ([it's;x] TEXT); SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), ["CREATE TABLE [a;b] ([it's;x] TEXT)", 'SELECT 2']);
  });

  it('PostgreSQL: backticks are not quotes', () => {
    assert.deepEqual(texts(splitStatements('SELECT `a;b`;', 'postgres')), ['SELECT `a', 'b`']);
  });
});

describe('splitStatements: comments', () => {
  for (const dialect of ['postgres', 'sqlite'] as const) {
    it(`-- comments hide semicolons and are not part of a leading statement (${dialect})`, () => {
      const input = '-- drop; everything\nSELECT 1; -- trailing; comment\nSELECT 2;';
      const statements = splitStatements(input, dialect);
      assert.deepEqual(texts(statements), ['SELECT 1', 'SELECT 2']);
      assert.equal(statements[0]?.line, 2);
      assert.equal(statements[0]?.column, 1);
      assertOffsetsPointAtText(input, statements);
    });

    it(`/* block */ comments hide semicolons (${dialect})`, () => {
      const input = '/* header;\n still header; */ SELECT 1; SELECT /* inline; */ 2;';
      const statements = splitStatements(input, dialect);
      assert.deepEqual(texts(statements), ['SELECT 1', 'SELECT /* inline; */ 2']);
      assert.equal(statements[0]?.line, 2);
    });

    it(`comment-only pieces are dropped (${dialect})`, () => {
      const input = 'SELECT 1;\n-- only a comment\n;\n/* only; a block */;\n-- the end';
      assert.deepEqual(texts(splitStatements(input, dialect)), ['SELECT 1']);
      assert.deepEqual(splitStatements('-- nothing here\n/* nor here */\n', dialect), []);
    });

    it(`a -- comment on the last line without a newline is fine (${dialect})`, () => {
      assert.deepEqual(texts(splitStatements('SELECT 1; -- done', dialect)), ['SELECT 1']);
    });
  }

  it('PostgreSQL nests /* */ comments', () => {
    const input = '/* outer /* inner; */ still comment; */ SELECT 1; SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ['SELECT 1', 'SELECT 2']);
  });

  it('SQLite does not nest /* */ comments: the first */ ends the comment', () => {
    const input = '/* a /* b */ SELECT 1; SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), ['SELECT 1', 'SELECT 2']);
    // The same text is one unterminated comment on PostgreSQL.
    assert.deepEqual(splitStatements(input, 'postgres'), []);
  });
});

describe('splitStatements: PostgreSQL dollar quotes', () => {
  it('$$ bodies keep their semicolons', () => {
    const input =
      'CREATE FUNCTION f() RETURNS int AS $$\n  SELECT 1;\n  SELECT 2;\n$$ LANGUAGE sql;\nSELECT f();';
    const statements = splitStatements(input, 'postgres');
    assert.deepEqual(texts(statements), [
      'CREATE FUNCTION f() RETURNS int AS $$\n  SELECT 1;\n  SELECT 2;\n$$ LANGUAGE sql',
      'SELECT f()',
    ]);
    assert.equal(statements[1]?.line, 5);
  });

  it('$tag$ bodies are closed only by the same tag, not by $$ or another tag', () => {
    const input = "CREATE FUNCTION g() RETURNS text AS $body$ SELECT $$;$$ || $other$;$other$; $body$ LANGUAGE sql; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'postgres')), [
      'CREATE FUNCTION g() RETURNS text AS $body$ SELECT $$;$$ || $other$;$other$; $body$ LANGUAGE sql',
      'SELECT 2',
    ]);
  });

  it('a DO block is one statement, and BEGIN/END inside it are not statements', () => {
    const input = "DO $$\nBEGIN\n  PERFORM 1;\n  RAISE NOTICE 'x;y';\nEND\n$$;\nCOMMENT ON TABLE t IS 'z';";
    const statements = splitStatements(input, 'postgres');
    assert.equal(statements.length, 2);
    assert.equal(statements[0]?.keyword, 'DO');
    assert.ok(statements[0]?.text.endsWith('END\n$$'));
    assert.equal(statements[1]?.keyword, 'COMMENT');
  });

  it('dollar quotes with unicode tags', () => {
    const input = 'SELECT $é$;$é$; SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ['SELECT $é$;$é$', 'SELECT 2']);
  });

  it('$1 parameters are not dollar quotes', () => {
    const input = 'PREPARE p AS SELECT $1; SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ['PREPARE p AS SELECT $1', 'SELECT 2']);
  });

  it('a $ inside an identifier does not open a dollar quote', () => {
    const input = 'SELECT 1 AS a$$b; SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ['SELECT 1 AS a$$b', 'SELECT 2']);
  });

  it('an unterminated dollar quote runs to the end of the text', () => {
    const input = 'SELECT $$ never closed; SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'postgres')), ['SELECT $$ never closed; SELECT 2;']);
  });
});

describe('splitStatements: SQLite trigger bodies', () => {
  it('CREATE TRIGGER ... BEGIN ...; ...; END; stays whole', () => {
    const input =
      'CREATE TABLE log (x);\n' +
      'CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO log VALUES (1);\n  UPDATE log SET x = 2;\nEND;\n' +
      'SELECT 1;';
    const statements = splitStatements(input, 'sqlite');
    assert.deepEqual(texts(statements), [
      'CREATE TABLE log (x)',
      'CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO log VALUES (1);\n  UPDATE log SET x = 2;\nEND',
      'SELECT 1',
    ]);
    assert.equal(statements[1]?.keyword, 'CREATE');
    assert.equal(statements[1]?.line, 2);
    assert.equal(statements[2]?.line, 6);
  });

  for (const temp of ['TEMP', 'temporary', 'Temp']) {
    it(`CREATE ${temp} TRIGGER stays whole too`, () => {
      const input = `create ${temp} trigger t after delete on a begin delete from b; delete from c; end; select 1;`;
      assert.deepEqual(texts(splitStatements(input, 'sqlite')), [
        `create ${temp} trigger t after delete on a begin delete from b; delete from c; end`,
        'select 1',
      ]);
    });
  }

  it('CREATE TRIGGER IF NOT EXISTS with a WHEN clause stays whole', () => {
    const input = 'CREATE TRIGGER IF NOT EXISTS t BEFORE UPDATE ON a WHEN new.x > 0 BEGIN SELECT 1; END; SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), [
      'CREATE TRIGGER IF NOT EXISTS t BEFORE UPDATE ON a WHEN new.x > 0 BEGIN SELECT 1; END',
      'SELECT 2',
    ]);
  });

  it('a CASE ... END inside a trigger body does not end the trigger', () => {
    const input =
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET y = CASE WHEN new.x > 0 THEN 'p;' ELSE 'n' END; END; SELECT 2;";
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), [
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET y = CASE WHEN new.x > 0 THEN 'p;' ELSE 'n' END; END",
      'SELECT 2',
    ]);
  });

  it('a CASE ... END in a normal statement does not hold the semicolon', () => {
    const input = 'SELECT CASE WHEN 1 THEN 2 END; SELECT 3; UPDATE t SET a = CASE b WHEN 1 THEN 2 ELSE 3 END;';
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), [
      'SELECT CASE WHEN 1 THEN 2 END',
      'SELECT 3',
      'UPDATE t SET a = CASE b WHEN 1 THEN 2 ELSE 3 END',
    ]);
  });

  it('BEGIN; ... END; transactions (not triggers) are split normally', () => {
    assert.deepEqual(texts(splitStatements('BEGIN; SELECT 1; END;', 'sqlite')), ['BEGIN', 'SELECT 1', 'END']);
  });

  it('words that merely contain TRIGGER, or TRIGGER in a string, do not start a trigger body', () => {
    const input = "CREATE TABLE trigger_log (x); SELECT 'CREATE TRIGGER'; SELECT 3;";
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), ['CREATE TABLE trigger_log (x)', "SELECT 'CREATE TRIGGER'", 'SELECT 3']);
  });

  it('the state resets after a trigger: two triggers in a row are two statements', () => {
    const input = 'CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT 1; END; CREATE TRIGGER b AFTER INSERT ON t BEGIN SELECT 2; END;';
    assert.deepEqual(texts(splitStatements(input, 'sqlite')), [
      'CREATE TRIGGER a AFTER INSERT ON t BEGIN SELECT 1; END',
      'CREATE TRIGGER b AFTER INSERT ON t BEGIN SELECT 2; END',
    ]);
  });

  it('PostgreSQL CREATE TRIGGER is an ordinary statement', () => {
    const input = 'CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION f(); SELECT 2;';
    assert.deepEqual(texts(splitStatements(input, 'postgres')), [
      'CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION f()',
      'SELECT 2',
    ]);
  });
});

describe('splitStatements: where each statement starts', () => {
  it('reports offset, 1-based line and column of the first character', () => {
    const input = 'SELECT 1;\n\n   INSERT INTO t VALUES (2);  UPDATE t SET x = 3;\n\tDELETE FROM t;';
    const statements = splitStatements(input, 'postgres');
    assert.deepEqual(
      statements.map(({ offset, line, column }) => ({ offset, line, column })),
      [
        { offset: 0, line: 1, column: 1 },
        { offset: 14, line: 3, column: 4 },
        { offset: 41, line: 3, column: 31 },
        { offset: 62, line: 4, column: 2 },
      ],
    );
    assertOffsetsPointAtText(input, statements);
  });

  it('columns count characters, so an astral character before a statement counts once', () => {
    const input = "SELECT '😀'; SELECT 2;";
    const statements = splitStatements(input, 'postgres');
    const second = statements[1];
    assert.ok(second);
    assert.equal(second.offset, input.indexOf('SELECT 2'));
    assert.equal(second.column, [...input.slice(0, second.offset)].length + 1);
    assert.equal(second.column, 13);
    assert.equal(second.offset, 13); // 😀 is two UTF-16 units
  });

  it('leading comments are skipped: the statement starts at its first keyword', () => {
    const input = '/* intro */\n-- more\n  COMMIT;';
    const [statement] = splitStatements(input, 'postgres');
    assert.deepEqual(statement, { text: 'COMMIT', offset: 22, line: 3, column: 3, keyword: 'COMMIT' });
  });
});

describe('splitStatements: first keyword', () => {
  it('is the first word, upper-cased', () => {
    const statements = splitStatements('create table a (x int); with q as (select 1) select * from q; commit; Begin;', 'postgres');
    assert.deepEqual(
      statements.map((statement) => statement.keyword),
      ['CREATE', 'WITH', 'COMMIT', 'BEGIN'],
    );
  });

  it("is '' for a statement with no keyword at all", () => {
    const [statement] = splitStatements("'just a string';", 'postgres');
    assert.equal(statement?.keyword, '');
  });

  it('a keyword inside a string or comment before the statement is not its keyword', () => {
    const [statement] = splitStatements("-- COMMIT\n/* BEGIN */ SELECT 'ROLLBACK';", 'postgres');
    assert.equal(statement?.keyword, 'SELECT');
  });

  it('does not carry over from the previous statement', () => {
    const statements = splitStatements('SELECT 1; COMMIT;', 'sqlite');
    assert.deepEqual(
      statements.map((statement) => statement.keyword),
      ['SELECT', 'COMMIT'],
    );
  });
});

describe('locate', () => {
  const text = 'ab\ncd\n\nef';

  it('gives 1-based line and column for an offset', () => {
    assert.deepEqual(locate(text, 0), { line: 1, column: 1 });
    assert.deepEqual(locate(text, 1), { line: 1, column: 2 });
    assert.deepEqual(locate(text, 2), { line: 1, column: 3 }); // the newline itself
    assert.deepEqual(locate(text, 3), { line: 2, column: 1 });
    assert.deepEqual(locate(text, 4), { line: 2, column: 2 });
    assert.deepEqual(locate(text, 6), { line: 3, column: 1 });
    assert.deepEqual(locate(text, 7), { line: 4, column: 1 });
    assert.deepEqual(locate(text, 8), { line: 4, column: 2 });
  });

  it('clamps offsets outside the text', () => {
    assert.deepEqual(locate(text, -5), { line: 1, column: 1 });
    assert.deepEqual(locate(text, 1000), { line: 4, column: 3 });
    assert.deepEqual(locate('', 3), { line: 1, column: 1 });
  });

  it('counts an astral character (two UTF-16 units) as one column', () => {
    const emoji = 'x😀y\n😀😀z';
    assert.deepEqual(locate(emoji, emoji.indexOf('y')), { line: 1, column: 3 });
    assert.deepEqual(locate(emoji, emoji.indexOf('z')), { line: 2, column: 3 });
  });

  it('counts accented BMP characters as one column each', () => {
    const accented = 'ünïcödé;x';
    assert.deepEqual(locate(accented, accented.indexOf('x')), { line: 1, column: 9 });
  });
});

describe('offsetOfCharacter', () => {
  it('is the identity for BMP-only text', () => {
    const text = 'héllo wörld';
    for (let i = 0; i <= text.length; i++) assert.equal(offsetOfCharacter(text, i), i);
  });

  it('skips both UTF-16 units of an astral character', () => {
    const text = 'a😀b𝄞c';
    assert.equal(offsetOfCharacter(text, 0), 0);
    assert.equal(offsetOfCharacter(text, 1), 1); // 😀
    assert.equal(offsetOfCharacter(text, 2), 3); // b
    assert.equal(offsetOfCharacter(text, 3), 4); // 𝄞
    assert.equal(offsetOfCharacter(text, 4), 6); // c
    assert.equal(text[offsetOfCharacter(text, 4)], 'c');
  });

  it('stops at the end of the text', () => {
    assert.equal(offsetOfCharacter('a😀', 10), 3);
    assert.equal(offsetOfCharacter('', 4), 0);
  });

  it('round-trips with locate: the character index maps back to the same column', () => {
    const text = '😀😀 SELECT';
    const offset = offsetOfCharacter(text, 3);
    assert.equal(text.slice(offset), 'SELECT');
    assert.deepEqual(locate(text, offset), { line: 1, column: 4 });
  });
});

describe('hasNoTransactionMarker', () => {
  it('finds the marker on its own line', () => {
    assert.equal(hasNoTransactionMarker('-- sql-helpers:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);'), true);
  });

  it('finds it on any line, not only the first', () => {
    assert.equal(hasNoTransactionMarker('-- add an index\n\n-- sql-helpers:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);'), true);
  });

  it('is case-insensitive and tolerates spaces and tabs around it', () => {
    assert.equal(hasNoTransactionMarker('  \t--   SQL-Helpers:No-Transaction \t\nSELECT 1;'), true);
    assert.equal(hasNoTransactionMarker('--sql-helpers:no-transaction'), true);
    assert.equal(hasNoTransactionMarker('-- sql-helpers: no-transaction'), true);
  });

  it('is absent from ordinary files', () => {
    assert.equal(hasNoTransactionMarker('CREATE TABLE t (x int);'), false);
    assert.equal(hasNoTransactionMarker(''), false);
  });

  it('does not count when it is inside other text on the line', () => {
    assert.equal(hasNoTransactionMarker('SELECT 1; -- sql-helpers:no-transaction'), false);
    assert.equal(hasNoTransactionMarker('-- sql-helpers:no-transaction please'), false);
    assert.equal(hasNoTransactionMarker('-- note: sql-helpers:no-transaction'), false);
    assert.equal(hasNoTransactionMarker("SELECT '-- sql-helpers:no-transaction';"), false);
    assert.equal(hasNoTransactionMarker('/* sql-helpers:no-transaction */'), false);
    for (const dialect of ['postgres', 'sqlite'] as const) {
      assert.equal(hasNoTransactionMarker('/*\n-- sql-helpers:no-transaction\n*/\nSELECT 1;', dialect), false, 'inside a block comment');
      assert.equal(hasNoTransactionMarker("SELECT '\n-- sql-helpers:no-transaction\n';", dialect), false, 'inside a string');
    }
    assert.equal(hasNoTransactionMarker('SELECT $x$\n-- sql-helpers:no-transaction\n$x$;', 'postgres'), false, 'inside a dollar quote');
  });

  it('needs the exact words', () => {
    assert.equal(hasNoTransactionMarker('-- sql-helpers:no-transactions'), false);
    assert.equal(hasNoTransactionMarker('-- sql-helpers:notransaction'), false);
    assert.equal(hasNoTransactionMarker('-- no-transaction'), false);
    assert.equal(hasNoTransactionMarker('# sql-helpers:no-transaction'), false);
  });
});

describe('TRANSACTION_CONTROL', () => {
  it('holds the keywords that end, open or split a transaction (savepoints too), and not ordinary ones', () => {
    for (const word of ['BEGIN', 'COMMIT', 'ROLLBACK', 'END', 'START', 'ABORT', 'SAVEPOINT', 'RELEASE']) assert.ok(TRANSACTION_CONTROL.has(word), word);
    for (const word of ['CREATE', 'SELECT', 'DO', 'begin']) assert.ok(!TRANSACTION_CONTROL.has(word), word);
  });
});
