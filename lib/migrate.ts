#!/usr/bin/env node
// The `sql-helpers-migrate` bin (`node lib/migrate.js`). The CLI lives in lib/cli/; the build (`npm run build`)
// bundles it into lib/cli/bundle.js, which this file runs: Node then loads one file instead of some fifty modules,
// a fifth of the start-up time of a short command such as `status`. The drivers stay outside the bundle.
import * as nodeModule from 'node:module';
import type * as Cli from './cli/main.js';

// Node 22.1+ keeps the compiled code of the bundle and the driver on disk between runs; Node 20 has no such cache.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// A specifier TypeScript does not resolve: the bundle has no declarations of its own, its types are main.ts's.
const BUNDLE = './cli/bundle.js';
const { main } = (await import(BUNDLE)) as typeof Cli;
process.exitCode = await main(process.argv.slice(2));
