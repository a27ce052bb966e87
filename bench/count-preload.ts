// Loaded with `node --import ./bench/count-preload.js …` into a child process (the CLI, node-pg-migrate's
// CLI): counts its round trips like counter.ts and appends the total to $BENCH_ROUND_TRIPS_FILE on exit.
import { appendFileSync } from 'node:fs';
import { RoundTrips } from './counter.js';

const file = process.env.BENCH_ROUND_TRIPS_FILE;
if (file) {
  RoundTrips.start();
  process.on('exit', () => appendFileSync(file, `${RoundTrips.stop()}\n`));
}
