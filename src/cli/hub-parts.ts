import { ImagelessError } from "../errors/imageless-error.js";

/**
 * Imports the part of the hub a command needs, at the command's run: the hub's server and database
 * code (fastify, better-sqlite3, pg) then never loads for the other commands, nor on a node.
 * better-sqlite3 is a native addon, which the single executable does not carry (see
 * docs/architecture.md, "What a node needs"); a command that opens the hub's database then fails with
 * one line that says where it runs.
 *
 * @throws {ImagelessError} `unsupported` when the SQLite driver cannot be loaded.
 * @example
 * const { startHub } = await loadHubPart("hub serve", () => import("../hub/server.js"));
 */
export async function loadHubPart<T>(command: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingSqliteDriver(error)) throw error;
    throw new ImagelessError(
      "unsupported",
      `${command}: this build cannot load better-sqlite3 (a native addon; the single executable has none): run the hub's commands from an npm install (npm ci && npm run build, then bin/imageless ${command})`,
      { cause: error },
    );
  }
}

/** True for the error of importing better-sqlite3 where it is not: a single executable (whose
 * `require` knows only Node's built-in modules) or a checkout without `npm ci`. */
export function isMissingSqliteDriver(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  const missing =
    code === "ERR_UNKNOWN_BUILTIN_MODULE" || code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
  return missing && error.message.includes("better-sqlite3");
}
