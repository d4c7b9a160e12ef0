import Database from "better-sqlite3";
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from "./sql-driver.js";

/**
 * A {@link SqlDriver} on one SQLite file (better-sqlite3, synchronous). WAL mode lets the CLI
 * (`hub user create`) write while a hub process reads; busy_timeout makes them wait, not fail.
 *
 * @example
 * const db = openSqliteDriver("/var/lib/imageless-hub/hub.sqlite");
 */
export function openSqliteDriver(path: string): SqlDriver {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  // The store's SQL is a fixed set of strings: each is compiled once, not on every query (compiling
  // cost more than running the hub's hot lookups).
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const exec: SqlExecutor = {
    all: async (sql, params = []) => prepared(sql).all(...(params as SqlValue[])) as SqlRow[],
    run: async (sql, params = []) => prepared(sql).run(...(params as SqlValue[])).changes,
  };
  // Statements of concurrent requests would otherwise land inside an open transaction between its
  // awaits; a promise chain orders transactions and plain statements.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work);
    tail = result.catch(() => undefined);
    return result;
  };
  return {
    dialect: "sqlite",
    all: (sql, params) => serial(() => exec.all(sql, params)),
    run: (sql, params) => serial(() => exec.run(sql, params)),
    transaction: (work) =>
      serial(async () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await work(exec);
          db.exec("COMMIT");
          return result;
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      }),
    close: async () => {
      await tail;
      db.close();
    },
  };
}
