import { ConfigurationError } from '../errors.js';
import { dbmate } from './dbmate.js';
import { flyway } from './flyway.js';
import { golangMigrate } from './golang-migrate.js';
import { goose } from './goose.js';
import type { Importer, ToolName } from './importer.js';
import { nodePgMigrate } from './node-pg-migrate.js';
import { postgrator } from './postgrator.js';

/** Every tool `import` and `adopt` know; adding one is a file and a line here. */
export const IMPORTERS: readonly Importer[] = [golangMigrate, goose, dbmate, flyway, nodePgMigrate, postgrator];

/** The importer for `tool`; a `ConfigurationError` listing the known tools otherwise. */
export function importerFor(tool: string): Importer {
  const importer = IMPORTERS.find((candidate) => candidate.tool === tool);
  if (!importer) {
    throw new ConfigurationError(`unknown tool "${tool}"; known tools: ${IMPORTERS.map((known) => known.tool).join(', ')}`, { code: 'UNKNOWN_TOOL' });
  }
  return importer;
}

export type { ToolName };
