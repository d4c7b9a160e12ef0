import { randomUUID } from "node:crypto";
import { ImagelessError } from "../../errors/imageless-error.js";
import type { Visibility } from "../access.js";
import { parseRole, type Role } from "../accounts/role.js";
import type {
  AccountRecord,
  AuditEvent,
  EnvironmentRecord,
  HubStore,
  NewToken,
  TokenRecord,
} from "./hub-store.js";
import { isUniqueViolation, type SqlDriver, type SqlExecutor, type SqlRow } from "./sql-driver.js";

/**
 * The {@link HubStore} over a migrated {@link SqlDriver}: every query written once for both databases.
 *
 * @example
 * const store = createSqlHubStore(openSqliteDriver(join(dataDir, "hub.sqlite")));
 */
export function createSqlHubStore(db: SqlDriver): HubStore {
  const one = async (sql: string, params: (string | number | null)[]) => (await db.all(sql, params))[0];
  return {
    createUser: (handle, admin, now) => insertAccount(db, { handle, kind: "user", admin, now }),
    createOrg: (name, ownerId, now) =>
      db.transaction(async (tx) => {
        const org = await insertAccount(tx, { handle: name, kind: "org", admin: false, now });
        await tx.run("INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'owner')", [
          org.id,
          ownerId,
        ]);
        return org;
      }),
    accountByHandle: async (handle) =>
      optional(await one("SELECT * FROM accounts WHERE handle = ?", [handle]), account),
    accountById: async (id) => optional(await one("SELECT * FROM accounts WHERE id = ?", [id]), account),
    listAccounts: async (kind) =>
      (await db.all("SELECT * FROM accounts WHERE kind = ? ORDER BY handle", [kind])).map(account),

    setMember: async (orgId, userId, role) => {
      await db.run(
        `INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)
         ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role`,
        [orgId, userId, role],
      );
    },
    removeMember: async (orgId, userId) =>
      (await db.run("DELETE FROM memberships WHERE org_id = ? AND user_id = ?", [orgId, userId])) > 0,
    roleOf: async (orgId, userId) => {
      const row = await one("SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", [orgId, userId]);
      return row === undefined ? undefined : parseRole(row["role"]);
    },
    membersOf: async (orgId) =>
      (
        await db.all(
          `SELECT a.handle, m.role FROM memberships m JOIN accounts a ON a.id = m.user_id
           WHERE m.org_id = ? ORDER BY a.handle`,
          [orgId],
        )
      ).map((r) => ({ handle: text(r["handle"]), role: parseRole(r["role"]) as Role })),
    orgsOf: async (userId) =>
      (
        await db.all(
          `SELECT a.handle, m.role FROM memberships m JOIN accounts a ON a.id = m.org_id
           WHERE m.user_id = ? ORDER BY a.handle`,
          [userId],
        )
      ).map((r) => ({ name: text(r["handle"]), role: parseRole(r["role"]) })),

    insertToken: async (t: NewToken) => {
      await db.run(
        `INSERT INTO tokens (id, hash, kind, account_id, description, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [t.id, t.hash, t.kind, t.accountId, t.description ?? null, t.createdAt, t.expiresAt ?? null],
      );
    },
    tokenByHash: async (hash) => optional(await one("SELECT * FROM tokens WHERE hash = ?", [hash]), token),
    tokensOf: async (accountId, kind) =>
      (
        await db.all("SELECT * FROM tokens WHERE account_id = ? AND kind = ? ORDER BY created_at, id", [
          accountId,
          kind,
        ])
      ).map(token),
    revokeToken: async (id, accountId, now) =>
      (await db.run(
        "UPDATE tokens SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL",
        [now, id, accountId],
      )) > 0,

    recordPush: async (owner, name, now) => {
      await db.run(
        `INSERT INTO environments (owner, name, visibility, created_at, updated_at) VALUES (?, ?, 'private', ?, ?)
         ON CONFLICT (owner, name) DO UPDATE SET updated_at = excluded.updated_at`,
        [owner, name, now, now],
      );
    },
    environment: async (owner, name) =>
      optional(
        await one("SELECT * FROM environments WHERE owner = ? AND name = ?", [owner, name]),
        environment,
      ),
    listEnvironments: async () =>
      (await db.all("SELECT * FROM environments ORDER BY owner, name", [])).map(environment),
    setVisibility: async (owner, name, visibility, now) =>
      (await db.run("UPDATE environments SET visibility = ?, updated_at = ? WHERE owner = ? AND name = ?", [
        visibility,
        now,
        owner,
        name,
      ])) > 0,
    deleteEnvironment: (owner, name, audit) =>
      db.transaction(async (tx) => {
        const removed = await tx.run("DELETE FROM environments WHERE owner = ? AND name = ?", [owner, name]);
        if (removed === 0) return false;
        await tx.run(
          "INSERT INTO audit_events (id, at, actor, action, owner, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
          [
            `aud_${randomUUID()}`,
            audit.at,
            audit.actor,
            audit.action,
            audit.owner,
            audit.target,
            audit.detail ?? null,
          ],
        );
        return true;
      }),
    auditEvents: async (owner) =>
      (await db.all("SELECT * FROM audit_events WHERE owner = ? ORDER BY at, id", [owner])).map(auditEvent),

    close: () => db.close(),
  };
}

async function insertAccount(
  db: SqlExecutor,
  a: { handle: string; kind: "user" | "org"; admin: boolean; now: number },
): Promise<AccountRecord> {
  const id = `acc_${randomUUID()}`;
  try {
    await db.run("INSERT INTO accounts (id, handle, kind, admin, created_at) VALUES (?, ?, ?, ?, ?)", [
      id,
      a.handle,
      a.kind,
      a.admin ? 1 : 0,
      a.now,
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ImagelessError(
        "failed-precondition",
        `the name "${a.handle}" is taken by a user or organisation`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  return { id, handle: a.handle, kind: a.kind, admin: a.admin, createdAt: a.now };
}

function optional<T>(row: SqlRow | undefined, map: (row: SqlRow) => T): T | undefined {
  return row === undefined ? undefined : map(row);
}

function account(r: SqlRow): AccountRecord {
  const kind = r["kind"];
  return {
    id: text(r["id"]),
    handle: text(r["handle"]),
    kind: kind === "org" ? "org" : "user",
    admin: int(r["admin"]) === 1,
    createdAt: int(r["created_at"]),
  };
}

function token(r: SqlRow): TokenRecord {
  const description = r["description"];
  const expires = r["expires_at"];
  const revoked = r["revoked_at"];
  return {
    id: text(r["id"]),
    kind: r["kind"] === "machine" ? "machine" : "user",
    accountId: text(r["account_id"]),
    ...(typeof description === "string" ? { description } : {}),
    createdAt: int(r["created_at"]),
    ...(expires === null || expires === undefined ? {} : { expiresAt: int(expires) }),
    ...(revoked === null || revoked === undefined ? {} : { revokedAt: int(revoked) }),
  };
}

function environment(r: SqlRow): EnvironmentRecord {
  const visibility: Visibility = r["visibility"] === "public" ? "public" : "private";
  return {
    owner: text(r["owner"]),
    name: text(r["name"]),
    visibility,
    createdAt: int(r["created_at"]),
    updatedAt: int(r["updated_at"]),
  };
}

function auditEvent(r: SqlRow): AuditEvent {
  const detail = r["detail"];
  return {
    at: int(r["at"]),
    actor: text(r["actor"]),
    action: text(r["action"]),
    owner: text(r["owner"]),
    target: text(r["target"]),
    ...(typeof detail === "string" ? { detail } : {}),
  };
}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  throw new ImagelessError("internal", `hub database: expected text, found ${typeof value}`);
}

/** PostgreSQL returns BIGINT as a string (it may exceed 2^53); our values are milliseconds, well below. */
function int(value: unknown): number {
  const n = typeof value === "string" || typeof value === "bigint" ? Number(value) : value;
  if (typeof n === "number" && Number.isSafeInteger(n)) return n;
  throw new ImagelessError("internal", `hub database: expected an integer, found ${String(value)}`);
}
