import { ConfigurationError } from '../errors.js';

/** A node of libpg-query's JSON syntax tree: one key (the node type) wrapping its fields, or the fields themselves. */
export type AstNode = { [key: string]: unknown };

/** What lint uses of libpg-query. Byte offsets (UTF-8) into the text, as the PostgreSQL parser counts. */
export interface PgParser {
  parse(text: string): Promise<{ stmts?: Array<{ stmt: AstNode; stmt_location?: number; stmt_len?: number }> }>;
  scan(text: string): Promise<{ tokens: Array<{ start: number; end: number; text: string; tokenName: string }> }>;
}

/** The package lint parses with; an optional peer dependency, loaded by lint alone. */
export const PARSER_PACKAGE = 'libpg-query';

/**
 * Loads the real PostgreSQL parser (libpg-query, WebAssembly: no native build). Only `lint` calls this, so an
 * application that never lints never installs nor loads it. `importer` exists for the test of a missing package.
 */
export async function loadParser(importer: () => Promise<unknown> = () => import(PARSER_PACKAGE)): Promise<PgParser> {
  try {
    return (await importer()) as PgParser;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new ConfigurationError(
      `lint parses migrations with the PostgreSQL parser from the npm package "${PARSER_PACKAGE}", which is not installed: ` +
        `npm install --save-dev ${PARSER_PACKAGE}`,
      { code: 'LINT_PARSER_MISSING', cause: error },
    );
  }
}
