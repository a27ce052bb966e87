import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { ConfigurationError } from '../errors.js';

// `require`, not `import()`: drivers are constructed synchronously, and only the one a URI names is loaded.
const require = createRequire(import.meta.url);

/** The driver packages, optional peer dependencies: an application installs the one its URIs need. */
interface DriverPackages {
  pg: typeof import('pg');
  'better-sqlite3': typeof BetterSqlite3;
}

/**
 * pg asks once, when it is loaded, whether it runs in a Cloudflare Worker. Where there is no `navigator` (Node 20)
 * it builds a fetch `Response` to find out, which loads Node's whole fetch implementation (undici): about a sixth
 * of a PostgreSQL CLI start. A `navigator` that says Node.js, as Node 21+ defines it, answers at once; it is
 * there only while pg loads.
 */
function withNavigator<T>(load: () => T): T {
  if ('navigator' in globalThis) return load();
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node.js' }, configurable: true, writable: true });
  try {
    return load();
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}

/** Loads the driver package `name` for `target` (a redacted URI); a missing package is a `DRIVER_NOT_INSTALLED` error naming it. */
export function loadDriverPackage<N extends keyof DriverPackages>(name: N, target: string): DriverPackages[N] {
  try {
    return (name === 'pg' ? withNavigator(() => require(name)) : require(name)) as DriverPackages[N];
  } catch (error) {
    // Only the package itself missing; a broken install (a dependency of it missing, no native binding) stays as it is.
    const missing = (error as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${name}'`);
    if (!missing) throw error;
    throw new ConfigurationError(
      `${target} needs the ${name} package, which is not installed: run npm install ${name} ` +
        '(sql-helpers lists pg and better-sqlite3 as optional peer dependencies, so only the one you use is installed)',
      { code: 'DRIVER_NOT_INSTALLED', cause: error },
    );
  }
}

let addon: string | null | undefined;

/**
 * The compiled addon of better-sqlite3 where its install puts it (`build/Release`), or `undefined` where it is not
 * there. Passed as `nativeBinding`, it spares better-sqlite3 its own search with the `bindings` package, which
 * stats a dozen candidate paths: about 5 % of a SQLite CLI start.
 */
export function betterSqliteAddon(): string | undefined {
  addon ??= (() => {
    try {
      const file = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
      return existsSync(file) ? file : null;
    } catch {
      return null;
    }
  })();
  return addon ?? undefined;
}
