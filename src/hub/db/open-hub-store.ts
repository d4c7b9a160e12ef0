import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../../errors/imageless-error.js";
import type { HubStore } from "./hub-store.js";
import { migrate } from "./migrations.js";
import { openPostgresDriver } from "./postgres-driver.js";
import type { SqlDriver } from "./sql-driver.js";
import { createSqlHubStore } from "./sql-hub-store.js";
import { openSqliteDriver } from "./sqlite-driver.js";

/** Where the hub's database is. */
export interface HubStoreOptions {
  /** The data directory; the SQLite file is `<dataDir>/hub.sqlite`. */
  readonly dataDir: string;
  /** A `postgres://` or `postgresql://` URL; SQLite in the data directory without it. */
  readonly database?: string;
}

/**
 * Opens the hub's database and migrates it to the newest schema.
 *
 * @throws {ImagelessError} `invalid-input` for a database URL that is not PostgreSQL's;
 *   `unavailable` when the database cannot be reached.
 * @example
 * const store = await openHubStore({ dataDir: "/var/lib/imageless-hub" });
 */
export async function openHubStore(opts: HubStoreOptions): Promise<HubStore> {
  const driver = await openDriver(opts);
  try {
    await migrate(driver);
  } catch (error) {
    await driver.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new ImagelessError("unavailable", `cannot prepare the hub database: ${reason}`, { cause: error });
  }
  return createSqlHubStore(driver);
}

async function openDriver(opts: HubStoreOptions): Promise<SqlDriver> {
  if (opts.database === undefined) {
    await mkdir(opts.dataDir, { recursive: true });
    return openSqliteDriver(join(opts.dataDir, "hub.sqlite"));
  }
  if (!/^postgres(ql)?:\/\//.test(opts.database)) {
    throw new ImagelessError(
      "invalid-input",
      "--database: only postgres:// URLs are accepted (leave it out for SQLite in the data directory)",
    );
  }
  return openPostgresDriver(opts.database);
}
