// Not part of `npm run bench`: where a no-op sync / status spends its time before the first query —
// reading, hashing and splitting N migration files (`node bench/micro-files.js DIR`).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checksumOf, readMigrations } from '../lib/migrations/files.js';
import { splitStatements } from '../lib/migrations/statements.js';

const dir = process.argv[2]!;
const ms = (t: number) => `${(performance.now() - t).toFixed(1)} ms`;
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  await readMigrations(dir, 'postgres');
  const full = ms(t);
  t = performance.now();
  const texts = readdirSync(dir).sort().map((file) => readFileSync(join(dir, file), 'utf8'));
  const read = ms(t);
  t = performance.now();
  for (const text of texts) checksumOf(text);
  const hash = ms(t);
  t = performance.now();
  for (const text of texts) splitStatements(text, 'postgres');
  const split = ms(t);
  console.log(`readMigrations ${full} | readFileSync all ${read} | sha256 all ${hash} | splitStatements all ${split}`);
}
