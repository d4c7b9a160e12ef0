import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import { isMissingSqliteDriver, loadHubPart } from "./hub-parts.js";

function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("isMissingSqliteDriver()", () => {
  const cases: ReadonlyArray<readonly [string, unknown, boolean]> = [
    ["ESM without npm ci", failure("ERR_MODULE_NOT_FOUND", "Cannot find package 'better-sqlite3'"), true],
    [
      "the single executable",
      failure("MODULE_NOT_FOUND", "Cannot find module 'better-sqlite3': a native addon"),
      true,
    ],
    [
      "a built-in-only require",
      failure("ERR_UNKNOWN_BUILTIN_MODULE", "No such built-in module: better-sqlite3"),
      true,
    ],
    ["another missing module", failure("ERR_MODULE_NOT_FOUND", "Cannot find package 'fastify'"), false],
    [
      "a database error naming the driver",
      failure("SQLITE_CANTOPEN", "better-sqlite3: unable to open"),
      false,
    ],
    ["not an error", "better-sqlite3", false],
  ];
  for (const [name, error, expected] of cases) {
    it(`is ${expected} for ${name}`, () => assert.equal(isMissingSqliteDriver(error), expected));
  }
});

describe("loadHubPart()", () => {
  it("turns a missing SQLite driver into one unsupported line naming the command and where it runs", async () => {
    const missing = failure("MODULE_NOT_FOUND", "Cannot find module 'better-sqlite3'");
    await assert.rejects(
      loadHubPart("hub serve", () => Promise.reject(missing)),
      (error: unknown) =>
        error instanceof ImagelessError &&
        error.kind === "unsupported" &&
        error.message ===
          "hub serve: this build cannot load better-sqlite3 (a native addon; the single executable has none): run the hub's commands from an npm install (npm ci && npm run build, then bin/imageless hub serve)",
    );
  });

  it("passes other failures and the loaded module through unchanged", async () => {
    const other = new Error("boom");
    await assert.rejects(
      loadHubPart("hub serve", () => Promise.reject(other)),
      (error) => error === other,
    );
    assert.deepEqual(await loadHubPart("hub serve", async () => ({ ok: 1 })), { ok: 1 });
  });
});
