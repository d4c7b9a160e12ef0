import type { Visibility } from "../access.js";
import type { Role } from "../accounts/role.js";

/** A user or an organisation; `handle` is also its owner name on the hub. */
export interface AccountRecord {
  readonly id: string;
  readonly handle: string;
  readonly kind: "user" | "org";
  readonly admin: boolean;
  /** Unix milliseconds. */
  readonly createdAt: number;
}

/** A token as stored: never its text, only its SHA-256 (kept out of this record too). */
export interface TokenRecord {
  readonly id: string;
  /** `user`: a JWT of the user `accountId`; `machine`: an organisation token of the org `accountId`. */
  readonly kind: "user" | "machine";
  readonly accountId: string;
  readonly description?: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
}

/** An environment in the hub's index (git holds its content). */
export interface EnvironmentRecord {
  readonly owner: string;
  readonly name: string;
  readonly visibility: Visibility;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A recorded change that outlives what it changed (docs/hub.md, "Audit"). */
export interface AuditEvent {
  /** Unix milliseconds. */
  readonly at: number;
  /** The handle of who did it. */
  readonly actor: string;
  /** What was done, e.g. `environment.deleted`. */
  readonly action: string;
  /** The account whose thing it was: who may read the event. */
  readonly owner: string;
  /** What it was done to, e.g. `acme/web`. */
  readonly target: string;
  /** One line of detail, e.g. the branch tip that was removed. */
  readonly detail?: string;
}

/** A token to store: its hash, never its text. */
export interface NewToken extends Omit<TokenRecord, "revokedAt"> {
  /** Lowercase hex SHA-256 of the token text. */
  readonly hash: string;
}

/**
 * The hub's database: accounts, organisations and memberships, token hashes, and the environment
 * index with visibility. One interface, one SQL implementation, SQLite or PostgreSQL underneath.
 */
export interface HubStore {
  /** @throws {ImagelessError} `failed-precondition` when the handle is taken (by a user or an org). */
  createUser(handle: string, admin: boolean, now: number): Promise<AccountRecord>;
  /** Creates organisation `name` with `ownerId` as its owner, in one transaction. @throws like createUser. */
  createOrg(name: string, ownerId: string, now: number): Promise<AccountRecord>;
  accountByHandle(handle: string): Promise<AccountRecord | undefined>;
  accountById(id: string): Promise<AccountRecord | undefined>;
  listAccounts(kind: "user" | "org"): Promise<AccountRecord[]>;

  setMember(orgId: string, userId: string, role: Role): Promise<void>;
  /** False when the user was not a member. */
  removeMember(orgId: string, userId: string): Promise<boolean>;
  roleOf(orgId: string, userId: string): Promise<Role | undefined>;
  membersOf(orgId: string): Promise<{ handle: string; role: Role }[]>;
  orgsOf(userId: string): Promise<{ name: string; role: Role }[]>;

  insertToken(token: NewToken): Promise<void>;
  tokenByHash(hash: string): Promise<TokenRecord | undefined>;
  tokensOf(accountId: string, kind: "user" | "machine"): Promise<TokenRecord[]>;
  /** Revokes token `id` of `accountId`; false when there is no such token (or it was revoked already). */
  revokeToken(id: string, accountId: string, now: number): Promise<boolean>;

  /** Records a push: a new environment is private; an existing one gets `updatedAt = now`. */
  recordPush(owner: string, name: string, now: number): Promise<void>;
  environment(owner: string, name: string): Promise<EnvironmentRecord | undefined>;
  listEnvironments(): Promise<EnvironmentRecord[]>;
  /** False when the environment is not in the index. */
  setVisibility(owner: string, name: string, visibility: Visibility, now: number): Promise<boolean>;
  /**
   * Removes the environment from the index and records `audit`, in one transaction; false (and no
   * event) when it was not in the index.
   */
  deleteEnvironment(owner: string, name: string, audit: AuditEvent): Promise<boolean>;
  /** The audit events of `owner`'s things, oldest first. */
  auditEvents(owner: string): Promise<AuditEvent[]>;

  close(): Promise<void>;
}
