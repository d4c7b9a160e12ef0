import pg from "pg";
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from "./sql-driver.js";

/**
 * A {@link SqlDriver} on a PostgreSQL pool. `url` is a `postgres://` connection string (a unix
 * socket directory goes in `?host=/path`).
 *
 * @example
 * const db = openPostgresDriver("postgres://hub@db.internal/hub");
 */
export function openPostgresDriver(url: string): SqlDriver {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client's error (server restart) must not crash the hub; the next query reconnects.
  pool.on("error", () => undefined);
  const on = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    all: async (sql, params = []) =>
      (await client.query(numbered(sql), params as SqlValue[])).rows as SqlRow[],
    run: async (sql, params = []) => (await client.query(numbered(sql), params as SqlValue[])).rowCount ?? 0,
  });
  const poolExec = on(pool);
  return {
    dialect: "postgres",
    all: poolExec.all,
    run: poolExec.run,
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work(on(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** `?` placeholders as PostgreSQL's `$1, $2 …` (pure; the store's SQL has no `?` in literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
