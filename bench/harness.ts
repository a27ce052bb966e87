// Interleaving, medians and ratios: every comparison runs its sides in one process, A B A B …, and
// reports the median of the per-round ratios, so that load from other processes hits both sides alike.
import { performance } from 'node:perf_hooks';
import { RoundTrips } from './counter.js';

/** One side of a comparison. `run` is timed; `prepare`/`cleanup` (fresh database, temp file …) are not. */
export interface Side {
  name: string;
  /** Untimed, before each run. */
  prepare?(): Promise<void>;
  /** The timed work. Returns the number of operations it did (for throughput), or nothing. */
  run(): Promise<number | void>;
  /** Untimed, after each run. */
  cleanup?(): Promise<void>;
  /**
   * Round trips per unit: counted (pg client / better-sqlite3 calls) during the untimed warm-up run and
   * divided by the operations `run` returned, or by `unitsPerRun` (e.g. 500 migrations), unless `roundTrips`
   * gives a figure (psql: statements counted in its script; child processes report their own).
   */
  unitsPerRun?: number;
  roundTrips?: () => number | undefined;
}

/** What the harness measured for one side. */
export interface SideResult {
  name: string;
  /** Milliseconds per run, in round order. */
  samples: number[];
  medianMs: number;
  /** Operations per second (median over rounds), when `run` returned a count. */
  opsPerSec: number | undefined;
  /** Round trips per operation / per unit, when known. */
  roundTrips: number | undefined;
  ops: number | undefined;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of per-round paired ratios, a/b. */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((value, index) => value / b[index]!));
}

export interface InterleaveOptions {
  rounds: number;
  /** Untimed warm-up rounds; the first one counts round trips. Default 1. */
  warmup?: number;
}

/**
 * Runs `sides` interleaved: warm-up round(s) (counting round trips in the first), then `rounds` timed
 * rounds; the order within a round alternates so that no side always runs first.
 */
export async function interleave(sides: Side[], options: InterleaveOptions): Promise<SideResult[]> {
  const warmup = options.warmup ?? 1;
  const samples = sides.map(() => [] as number[]);
  const opsPerRun = sides.map(() => undefined as number | undefined);
  const counted = sides.map(() => undefined as number | undefined);
  for (let round = 0; round < warmup + options.rounds; round++) {
    const order = sides.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      const side = sides[index]!;
      await side.prepare?.();
      const counting = round === 0 && side.roundTrips === undefined;
      if (counting) RoundTrips.start();
      const started = performance.now();
      let ops: number | void;
      try {
        ops = await side.run();
      } finally {
        const elapsed = performance.now() - started;
        const trips = counting ? RoundTrips.stop() : undefined;
        if (round >= warmup) samples[index]!.push(elapsed);
        if (trips !== undefined) counted[index] = trips;
      }
      if (typeof ops === 'number') opsPerRun[index] = ops;
      await side.cleanup?.();
    }
  }
  return sides.map((side, index) => {
    const ops = opsPerRun[index];
    const units = ops ?? side.unitsPerRun ?? 1;
    const trips = side.roundTrips ? side.roundTrips() : counted[index] === undefined ? undefined : counted[index]! / units;
    const ms = samples[index]!;
    return {
      name: side.name,
      samples: ms,
      medianMs: median(ms),
      opsPerSec: ops === undefined ? undefined : median(ms.map((value) => (ops / value) * 1000)),
      roundTrips: trips,
      ops,
    };
  });
}

/** Runs `op(i)` `total` times from `concurrency` workers, each awaiting its previous call. Returns `total`. */
export async function concurrently(concurrency: number, total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < total) await op(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total;
}

/** Runs `op(i)` `total` times one after the other (SQLite: one connection, nothing to overlap). */
export async function sequentially(total: number, op: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < total; i++) await op(i);
  return total;
}
