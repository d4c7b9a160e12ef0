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

/** What a row's samples count: milliseconds (the default), megabytes (10^6 bytes) or a plain number. */
export type Unit = "ms" | "MB" | "count";

/** One line of the results: a figure, and the baseline its ratio is against (measured in the same run). */
export interface Row {
  readonly group: string;
  readonly what: string;
  readonly stats: Stats;
  /** The unit of `stats` (and of `limit`); `ms` when absent. */
  readonly unit?: Unit;
  readonly baseline?: Stats;
  /** The ratio this figure should stay under. */
  readonly target?: number;
  /** An absolute bound the median should stay under, in the row's unit (memory, downloads per path). */
  readonly limit?: number;
  /** What the target column says instead, for a figure judged by other measures (a rate and a p99). */
  readonly targetText?: string;
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

function formatted(value: number, unit: Unit): string {
  if (unit === "count") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}

/** The target column: the ratio against the baseline, or the absolute limit, and whether it was met. */
function verdict(row: Row): string {
  const median = row.stats.median;
  if (row.targetText !== undefined) return row.targetText;
  if (row.limit !== undefined)
    return `≤ ${formatted(row.limit, row.unit ?? "ms")} ${median <= row.limit ? "met" : "missed"}`;
  if (row.target === undefined || row.baseline === undefined) return "";
  return `≤ ${row.target.toFixed(2)} ${median / row.baseline.median <= row.target ? "met" : "missed"}`;
}

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
    const f = (value: number): string => formatted(value, row.unit ?? "ms");
    const ratio = row.baseline === undefined ? "" : (s.median / row.baseline.median).toFixed(2);
    const spread = s.n === 1 ? "" : `${f(s.p25)}–${f(s.p75)} (${f(s.min)}–${f(s.max)})`;
    lines.push(`| ${row.group} | ${row.what} | ${f(s.median)} | ${spread} | ${ratio} | ${verdict(row)} |`);
  }
  return `${lines.join("\n")}\n`;
}
