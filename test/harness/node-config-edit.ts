import { readFile, writeFile } from "node:fs/promises";

/**
 * Sets keys of one table of a node's config.toml in place (replacing keys already there). The
 * runtime reads its config on every call, so a test can change `[floxhub] token-file`,
 * `offline-grace` or `[telemetry]` between pods without restarting containerd.
 *
 * @example
 * await setConfigKeys(node.configPath, "telemetry", { enabled: true, endpoint: "http://127.0.0.1:9/" });
 */
export async function setConfigKeys(
  path: string,
  table: string,
  values: Readonly<Record<string, string | boolean>>,
): Promise<void> {
  const lines = (await readFile(path, "utf8")).split("\n");
  const out: string[] = [];
  let current = "";
  let inserted = false;
  for (const line of lines) {
    const header = /^\[([^\]]+)\]\s*$/.exec(line.trim());
    if (header !== null) {
      current = header[1] ?? "";
      out.push(line);
      if (current === table) {
        out.push(...rendered(values));
        inserted = true;
      }
      continue;
    }
    const key = /^([A-Za-z0-9_-]+)\s*=/.exec(line.trim())?.[1];
    if (current === table && key !== undefined && Object.hasOwn(values, key)) continue;
    out.push(line);
  }
  if (!inserted) out.push(`[${table}]`, ...rendered(values));
  await writeFile(path, out.join("\n"));
}

function rendered(values: Readonly<Record<string, string | boolean>>): string[] {
  return Object.entries(values).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
}
