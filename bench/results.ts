/** Summaries and the RESULTS.md table for bench/run (pure). */

/** Median and spread of one figure's samples, in ms. */
export interface Stats {
  readonly n: number;
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
}

/** One line of the results: a figure, and the baseline its ratio is against (measured in the same run). */
export interface Row {
  readonly group: string;
  readonly what: string;
  readonly stats: Stats;
  readonly baseline?: Stats;
  /** The ratio this figure should stay under. */
  readonly target?: number;
  /** What goes in the target column instead, for a figure judged by other measures (e.g. a rate). */
  readonly verdict?: string;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (at - lo);
}

export function summarise(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

const ms = (value: number): string => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

/** The whole RESULTS.md. */
export function renderResults(run: { date: Date; machine: readonly string[]; rows: readonly Row[] }): string {
  const lines = [
    "# bench/run results",
    "",
    `Written by \`bench/run\` on ${run.date.toISOString()}. Ratios are against the baseline measured in the`,
    "same phase of the same run (alternating), so machine noise hits both; spread is p25–p75 (min–max).",
    "",
    ...run.machine.map((line) => `- ${line}`),
    "",
    "| group | figure | median | spread | ratio | target |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const row of run.rows) {
    const s = row.stats;
    const ratio = row.baseline === undefined ? "" : (s.median / row.baseline.median).toFixed(2);
    const met =
      row.verdict !== undefined
        ? row.verdict
        : row.target === undefined || row.baseline === undefined
          ? ""
          : `≤ ${row.target.toFixed(2)} ${s.median / row.baseline.median <= row.target ? "met" : "missed"}`;
    lines.push(
      `| ${row.group} | ${row.what} | ${ms(s.median)} | ${ms(s.p25)}–${ms(s.p75)} (${ms(s.min)}–${ms(s.max)}) | ${ratio} | ${met} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
