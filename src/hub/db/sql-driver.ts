/**
 * The few SQL operations the hub store needs, implemented once per database (SQLite, PostgreSQL) so
 * the store's queries are written once. Statements use `?` placeholders; drivers translate them.
 */
export type SqlValue = string | number | null;
export type SqlRow = Readonly<Record<string, unknown>>;

/** Runs statements; inside a transaction, on that transaction's connection. */
export interface SqlExecutor {
  /** Every row a query returns. */
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** A database connection (pool) the store is built on. */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: "sqlite" | "postgres";
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. Other
   * statements wait until it ends, so nothing unrelated lands inside it.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** True when a driver error is a unique-constraint violation (a handle or name already taken). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  // better-sqlite3 reports SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE; PostgreSQL SQLSTATE 23505.
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
