import type { SqlDriver } from "./sql-driver.js";

/**
 * The schema, as numbered migrations written in SQL both SQLite and PostgreSQL accept (TEXT ids,
 * BIGINT times in Unix milliseconds, INTEGER 0/1 flags). Append a migration; never edit a shipped one.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE accounts (
       id TEXT PRIMARY KEY,
       handle TEXT NOT NULL UNIQUE,
       kind TEXT NOT NULL CHECK (kind IN ('user', 'org')),
       admin INTEGER NOT NULL DEFAULT 0,
       created_at BIGINT NOT NULL)`,
    `CREATE TABLE memberships (
       org_id TEXT NOT NULL REFERENCES accounts(id),
       user_id TEXT NOT NULL REFERENCES accounts(id),
       role TEXT NOT NULL CHECK (role IN ('owner', 'writer', 'reader')),
       PRIMARY KEY (org_id, user_id))`,
    `CREATE TABLE tokens (
       id TEXT PRIMARY KEY,
       hash TEXT NOT NULL UNIQUE,
       kind TEXT NOT NULL CHECK (kind IN ('user', 'machine')),
       account_id TEXT NOT NULL REFERENCES accounts(id),
       description TEXT,
       created_at BIGINT NOT NULL,
       expires_at BIGINT,
       revoked_at BIGINT)`,
    "CREATE INDEX tokens_account ON tokens (account_id)",
    `CREATE TABLE environments (
       owner TEXT NOT NULL,
       name TEXT NOT NULL,
       visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
       created_at BIGINT NOT NULL,
       updated_at BIGINT NOT NULL,
       PRIMARY KEY (owner, name))`,
  ],
  [
    // Changes whose own record goes away with them (a deleted environment takes its floxmeta history
    // along), kept so an owner can still see who did it and when.
    `CREATE TABLE audit_events (
       id TEXT PRIMARY KEY,
       at BIGINT NOT NULL,
       actor TEXT NOT NULL,
       action TEXT NOT NULL,
       owner TEXT NOT NULL,
       target TEXT NOT NULL,
       detail TEXT)`,
    "CREATE INDEX audit_events_owner ON audit_events (owner, at)",
  ],
];

/**
 * Brings the database to the newest schema, each migration in its own transaction. On PostgreSQL an
 * advisory lock makes hub processes starting together migrate one after the other.
 */
export async function migrate(db: SqlDriver): Promise<void> {
  await db.run(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
  );
  for (const [index, statements] of MIGRATIONS.entries()) {
    const version = index + 1;
    await db.transaction(async (tx) => {
      // 7368 = "is" (imageless schema): any constant works, it only has to be the same for all hubs.
      if (db.dialect === "postgres") await tx.run("SELECT pg_advisory_xact_lock(7368)");
      const done = await tx.all("SELECT version FROM schema_migrations WHERE version = ?", [version]);
      if (done.length > 0) return;
      for (const sql of statements) await tx.run(sql);
      await tx.run("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", [
        version,
        Date.now(),
      ]);
    });
  }
}
