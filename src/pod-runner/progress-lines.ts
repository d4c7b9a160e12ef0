/**
 * What `imageless pod run` shows on a terminal while a pod's containers are created: the node log's
 * `realise.*` events (written by src/node/start.ts) as lines a person reads. Pure.
 */

/**
 * The line for one node-log line, or undefined for any other event (or a line that is not JSON).
 *
 * @example
 * progressLine('{"event":"realise.started","env":"demo/redis","paths":4,"downloadBytes":20971520}');
 * // "demo/redis: fetching 4 paths (20.0 MiB) …"
 */
export function progressLine(logLine: string): string | undefined {
  const event = parseObject(logLine);
  if (event === undefined) return undefined;
  const env = typeof event["env"] === "string" ? event["env"] : "environment";
  if (event["event"] === "realise.started" && typeof event["paths"] === "number") {
    const count = event["paths"] === 1 ? "1 path" : `${event["paths"]} paths`;
    const size = typeof event["downloadBytes"] === "number" ? ` (${mib(event["downloadBytes"])})` : "";
    return `${env}: fetching ${count}${size} …`;
  }
  if (event["event"] === "realise.path" && typeof event["path"] === "string") return `  ${event["path"]}`;
  return undefined;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
