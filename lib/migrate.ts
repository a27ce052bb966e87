#!/usr/bin/env node
// The `sql-helpers-migrate` bin (`node lib/migrate.js`): the CLI lives in lib/cli/, this file only starts it.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { main } from './cli/main.js';

export { DEFAULT_DATABASE, DEFAULT_DIR, ExitCode, main, type Output } from './cli/main.js';

// Run when executed directly or through the npm bin symlink, not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
