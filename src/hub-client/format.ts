import type { EnvironmentDetail, EnvironmentSummary, GenerationInfo, HistoryInfo } from "./api-types.js";
import type { PushProgress } from "./env-push.js";

// People-readable renderings of the hub's answers (pure). `--json` prints the parsed values instead.

/**
 * A time from the hub as `YYYY-MM-DD HH:MM:SSZ`: Unix seconds or ISO text; other text as given.
 *
 * @example
 * formatTime(1717000000); // "2024-05-29 16:26:40Z"
 */
export function formatTime(value: string | number | undefined): string {
  if (value === undefined) return "-";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** Rows as left-aligned columns, two spaces apart, trailing spaces trimmed. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `imageless env list`. */
export function formatEnvironmentList(envs: readonly EnvironmentSummary[]): string {
  if (envs.length === 0) return "no environments";
  return table([
    ["ENVIRONMENT", "VISIBILITY", "LIVE", "GENERATIONS", "UPDATED"],
    ...envs.map((e) => [
      `${e.owner}/${e.name}`,
      e.visibility,
      e.liveGeneration === undefined ? "-" : String(e.liveGeneration),
      String(e.totalGenerations),
      formatTime(e.updatedAt),
    ]),
  ]);
}

/** `imageless env show`: packages (versions per system), variables, hook and profile scripts. */
export function formatEnvironmentDetail(env: EnvironmentDetail): string {
  const live = env.generation === env.liveGeneration ? " (live)" : ` (live: ${env.liveGeneration ?? "none"})`;
  const lines = [
    `${env.owner}/${env.name}  generation ${env.generation}${live}  ${env.visibility}`,
    "",
    "Packages:",
  ];
  if (env.packages.length === 0) lines.push("  (none)");
  else {
    const rows = env.packages.map((p) => [
      p.installId,
      p.version ?? "-",
      p.pkgPath ?? p.storePath ?? "-",
      p.systems.join(", "),
    ]);
    lines.push(indent(table([["ID", "VERSION", "SOURCE", "SYSTEMS"], ...rows])));
  }
  lines.push("", "Variables:");
  const vars = Object.entries(env.vars);
  lines.push(
    vars.length === 0 ? "  (none)" : indent(vars.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n")),
  );
  lines.push("", "Hook on-activate:", script(env.hook.onActivate));
  const profiles = Object.entries(env.profile);
  if (profiles.length === 0) lines.push("", "Profile: (none)");
  for (const [shell, text] of profiles) lines.push("", `Profile ${shell}:`, script(text));
  return lines.join("\n");
}

/** `imageless env generations`: one line each, the live one marked. */
export function formatGenerations(gens: readonly GenerationInfo[]): string {
  if (gens.length === 0) return "no generations";
  return table([
    ["GEN", "CREATED", "AUTHOR", "DESCRIPTION", ""],
    ...gens.map((g) => [
      String(g.generation),
      formatTime(g.created),
      g.author ?? "-",
      g.description ?? "",
      g.live ? "(live)" : "",
    ]),
  ]);
}

/** `imageless env history`: who changed what, when and from where, oldest first. */
export function formatHistory(entries: readonly HistoryInfo[]): string {
  if (entries.length === 0) return "no history";
  return table([
    ["TIME", "AUTHOR", "HOST", "CHANGE", "GENERATION", "COMMAND"],
    ...entries.map((h) => [
      formatTime(h.timestamp),
      h.author || "-",
      h.hostname || "-",
      h.summary === undefined ? h.kind : `${h.kind}: ${h.summary}`,
      h.previousGeneration === undefined
        ? String(h.currentGeneration)
        : `${h.previousGeneration} -> ${h.currentGeneration}`,
      h.command === undefined ? "" : h.command.join(" "),
    ]),
  ]);
}

/** The line after a switch or rollback. */
export function formatSwitch(ref: string, entry: HistoryInfo): string {
  const from = entry.previousGeneration === undefined ? "" : ` (was ${entry.previousGeneration})`;
  return `${ref}: generation ${entry.currentGeneration} is live${from}`;
}

/** The lines after `env push`. */
export function formatPush(result: {
  ref: { owner: string; name: string };
  generation: number;
  created: boolean;
  lockedHere: boolean;
  copied?: number;
  copiedBytes?: number;
  alreadyPresent?: number;
  copySkipped?: string;
}): string {
  const ref = `${result.ref.owner}/${result.ref.name}`;
  const lines = [
    `${ref}: pushed generation ${result.generation}${result.created ? " (new environment, private)" : ""}; it is live`,
  ];
  if (result.lockedHere)
    lines.push("locked the store-path packages here (no manifest.lock in the directory)");
  if (result.copied !== undefined) {
    const bytes = result.copiedBytes === undefined ? "" : ` (${formatBytes(result.copiedBytes)})`;
    lines.push(`copied ${result.copied} new store paths${bytes} to the hub's cache`);
  }
  if (result.alreadyPresent !== undefined && result.alreadyPresent > 0)
    lines.push(`${result.alreadyPresent} store paths were in the hub's cache already, identical`);
  if (result.copySkipped !== undefined) lines.push(`did not copy store paths: ${result.copySkipped}`);
  return lines.join("\n");
}

/** One progress line of `env push` (stderr, on a terminal only). */
export function formatPushProgress(event: PushProgress): string {
  if (event.kind === "closure") {
    return `uploading to ${event.to}: a closure of ${event.paths} store paths, ${formatBytes(event.bytes)} (paths the cache has are skipped)`;
  }
  return `  ${event.path}${event.bytes === undefined ? "" : `  ${formatBytes(event.bytes)}`}`;
}

/** `1234567` → `1.2 MB` (decimal units, as `du --si`). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The line after `env pull`. */
export function formatPull(result: {
  ref: { owner: string; name: string };
  generation: number;
  live: boolean;
  files: readonly string[];
}): string {
  const what = `${result.ref.owner}/${result.ref.name} generation ${result.generation}${result.live ? " (live)" : ""}`;
  return `pulled ${what} into ${result.files.join(", ")}`;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

function script(text: string | undefined): string {
  return text === undefined || text.trim() === "" ? "  (none)" : indent(text.trimEnd());
}
