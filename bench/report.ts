// The one Markdown table (and the JSON document) the bench prints.
import { pairedRatio, type SideResult } from './harness.js';

export type RatioKind = 'throughput' | 'time';

/** One line of the table: sql-helpers against one baseline. */
export interface Row {
  measure: string;
  dialect: 'PostgreSQL' | 'PostgreSQL via PgBouncer' | 'SQLite' | '—';
  ours: SideResult;
  baseline: SideResult;
  /** throughput: ours / baseline ops per second (higher is better); time: ours / baseline time (lower is better). */
  kind: RatioKind;
  ratio: number;
  target: string;
  /** `undefined` when the row has no target (a reference figure). */
  met: boolean | undefined;
  rounds: number;
  note?: string;
}

export interface RowSpec {
  measure: string;
  dialect: Row['dialect'];
  kind: RatioKind;
  target: string;
  /** Decides met/missed from the ratio, our median and our round trips; omit for a reference row. */
  check?: (ratio: number, ours: SideResult) => boolean;
  rounds: number;
  note?: string;
}

export function row(spec: RowSpec, ours: SideResult, baseline: SideResult): Row {
  const ratio =
    spec.kind === 'throughput'
      ? pairedRatio(baseline.samples, ours.samples) // same ops per run: throughput ratio = inverse time ratio
      : pairedRatio(ours.samples, baseline.samples);
  return {
    measure: spec.measure,
    dialect: spec.dialect,
    ours,
    baseline,
    kind: spec.kind,
    ratio,
    target: spec.target,
    met: spec.check ? spec.check(ratio, ours) : undefined,
    rounds: spec.rounds,
    ...(spec.note ? { note: spec.note } : {}),
  };
}

const num = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function figure(side: SideResult, kind: RatioKind): string {
  if (kind === 'throughput' && side.opsPerSec !== undefined) return `${num(side.opsPerSec)} ops/s`;
  return side.medianMs >= 100 ? `${num(side.medianMs)} ms` : `${num(side.medianMs, 1)} ms`;
}

function trips(value: number | undefined): string {
  if (value === undefined) return '?';
  return Number.isInteger(value) ? String(value) : num(value, 2);
}

export function markdown(rows: Row[]): string {
  const header =
    '| measure | db | sql-helpers | compared with | baseline | ratio | round trips (ours / theirs) | target | met | rounds |\n' +
    '|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => {
    const ratio = `${num(r.ratio, 2)}× ${r.kind === 'throughput' ? 'throughput' : 'time'}`;
    const met = r.met === undefined ? '—' : r.met ? 'met' : '**missed**';
    const measure = r.note ? `${r.measure} (${r.note})` : r.measure;
    return `| ${measure} | ${r.dialect} | ${figure(r.ours, r.kind)} | ${r.baseline.name} | ${figure(r.baseline, r.kind)} | ${ratio} | ${trips(r.ours.roundTrips)} / ${trips(r.baseline.roundTrips)} | ${r.target} | ${met} | ${r.rounds} |`;
  });
  return [header, ...lines].join('\n');
}

export function json(rows: Row[], meta: Record<string, unknown>): string {
  return JSON.stringify(
    {
      ...meta,
      rows: rows.map((r) => ({
        measure: r.measure,
        dialect: r.dialect,
        note: r.note,
        kind: r.kind,
        ratio: r.ratio,
        target: r.target,
        met: r.met,
        rounds: r.rounds,
        ours: r.ours,
        baseline: r.baseline,
      })),
    },
    null,
    2,
  );
}
