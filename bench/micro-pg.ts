// Not part of `npm run bench`: what the PostgreSQL helpers could gain, measured with raw pg only —
// unnamed statements (what sql-helpers sends today) against named (prepared once per connection) ones,
// and pool.query against the connect/query/release sequence the driver seam does per call.
import pg from 'pg';
import { dropPgDatabase, freshPgDatabase } from './databases.js';
import { concurrently, interleave, pairedRatio } from './harness.js';

const database = await freshPgDatabase('micro');
const pool = new pg.Pool({ connectionString: database.url, max: 8 });
try {
  await pool.query('CREATE TABLE bench_items (id serial PRIMARY KEY, key text NOT NULL UNIQUE, value text)');
  await pool.query(`INSERT INTO bench_items (key, value) SELECT 'k' || g, 'v' || g FROM generate_series(1, 1000) g`);
  const text = 'SELECT * FROM bench_items WHERE key = $1 LIMIT 2';
  const key = (i: number) => `k${(i % 1000) + 1}`;
  const calls = 8000;
  const results = await interleave(
    [
      { name: 'pool.query unnamed', run: () => concurrently(16, calls, (i) => pool.query(text, [key(i)])) },
      { name: 'pool.query named (prepared)', run: () => concurrently(16, calls, (i) => pool.query({ name: 'by_key', text, values: [key(i)] })) },
      {
        name: 'connect + query + release (the seam)',
        run: () =>
          concurrently(16, calls, async (i) => {
            const client = await pool.connect();
            try {
              await client.query(text, [key(i)]);
            } finally {
              client.release();
            }
          }),
      },
    ],
    { rounds: 7 },
  );
  for (const result of results) {
    console.log(`${result.name.padEnd(40)} ${Math.round(result.opsPerSec!)} ops/s  (${(pairedRatio(results[0]!.samples, result.samples)).toFixed(2)}× unnamed)`);
  }
} finally {
  await pool.end();
  await dropPgDatabase(database.name);
}
