import { ImagelessError } from "../errors/imageless-error.js";

/** `GET /accounts/me`: who the token belongs to. */
export interface Account {
  readonly handle: string;
  readonly kind: "user" | "org-token";
  readonly admin: boolean;
  readonly orgs: readonly { readonly name: string; readonly role: string }[];
}

export type Visibility = "public" | "private";

/** One row of `GET /environments`. */
export interface EnvironmentSummary {
  readonly owner: string;
  readonly name: string;
  readonly visibility: Visibility;
  /** Absent for an environment without generations. */
  readonly liveGeneration?: number;
  readonly totalGenerations: number;
  /** As the hub sent it (ISO text or Unix seconds), shown as is. */
  readonly updatedAt?: string | number;
}

/** One package of a generation, all systems it is locked for. */
export interface PackageInfo {
  readonly installId: string;
  readonly pkgPath?: string;
  readonly storePath?: string;
  readonly version?: string;
  readonly systems: readonly string[];
  readonly priority?: number;
}

/** `GET /environments/:owner/:name`: one generation's content. */
export interface EnvironmentDetail {
  readonly owner: string;
  readonly name: string;
  readonly visibility: Visibility;
  readonly liveGeneration?: number;
  readonly generation: number;
  readonly packages: readonly PackageInfo[];
  readonly vars: Readonly<Record<string, string>>;
  readonly hook: { readonly onActivate?: string };
  readonly profile: Readonly<Record<string, string>>;
  /** What the caller may do with it (absent from hubs older than this field). */
  readonly callerMay?: { readonly write: boolean; readonly administer: boolean };
}

/** One row of `GET /environments/:owner/:name/generations`. */
export interface GenerationInfo {
  readonly generation: number;
  readonly created?: string | number;
  readonly lastLive?: string | number;
  readonly live: boolean;
  readonly description?: string;
  readonly author?: string;
}

/** One entry of `GET /environments/:owner/:name/history` (and the answer of switch/rollback). */
export interface HistoryInfo {
  readonly kind: string;
  readonly author: string;
  readonly hostname: string;
  readonly timestamp?: string | number;
  readonly currentGeneration: number;
  readonly previousGeneration?: number;
  readonly summary?: string;
  readonly command?: readonly string[];
}

/** `GET /environments/:owner/:name/diff`: what changed from one generation to another. */
export interface GenerationDiffInfo {
  readonly from: number;
  readonly to: number;
  readonly packages: readonly {
    readonly installId: string;
    readonly change: "added" | "removed" | "upgraded";
    readonly from?: string;
    readonly to?: string;
  }[];
  readonly vars: readonly {
    readonly name: string;
    readonly change: "added" | "removed" | "changed";
    readonly from?: string;
    readonly to?: string;
  }[];
  readonly scripts: readonly { readonly script: string; readonly from?: string; readonly to?: string }[];
}

/** One row of `GET /audit?owner=`. */
export interface AuditInfo {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly detail?: string;
}

/** `GET /orgs/:org`: an organisation and its members. */
export interface OrgInfo {
  readonly name: string;
  readonly members: readonly { readonly handle: string; readonly role: string }[];
  /** The caller may manage members and machine tokens. */
  readonly callerMayManage: boolean;
}

/** A token just created: its text is shown once, here and never again. */
export interface CreatedToken {
  readonly id: string;
  readonly token: string;
  /** ISO time; absent for machine tokens, which last until revoked. */
  readonly expiresAt?: string;
}

/** One row of `GET /tokens` or `GET /orgs/:org/tokens` (never the token itself). */
export interface TokenInfo {
  readonly id: string;
  readonly description: string;
  readonly createdAt: string;
  /** ISO time; absent for machine tokens. */
  readonly expiresAt?: string;
  readonly revoked: boolean;
}

// The parsers below check the hub's answers against docs/hub.md once, at the edge, so later code
// holds typed values; they are lenient where the contract leaves a format open (times).

/** @throws {ImagelessError} `internal` when the answer does not have the documented shape. */
export function parseAccount(data: unknown, where: string): Account {
  const o = record(data, where);
  const kind = str(o, "kind", where);
  if (kind !== "user" && kind !== "org-token") bad(where, "kind", kind);
  return {
    handle: str(o, "handle", where),
    kind,
    admin: o["admin"] === true,
    orgs: list(o["orgs"] ?? [], `${where}.orgs`).map((org, i) => {
      const r = record(org, `${where}.orgs[${i}]`);
      return { name: str(r, "name", where), role: str(r, "role", where) };
    }),
  };
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseEnvironmentList(data: unknown, where: string): EnvironmentSummary[] {
  return list(data, where).map((item, i) => {
    const w = `${where}[${i}]`;
    const o = record(item, w);
    const live = optNumber(o, "liveGeneration", w);
    const updated = optTime(o, "updatedAt", w);
    return {
      owner: str(o, "owner", w),
      name: str(o, "name", w),
      visibility: visibility(o, w),
      ...(live === undefined ? {} : { liveGeneration: live }),
      totalGenerations: optNumber(o, "totalGenerations", w) ?? 0,
      ...(updated === undefined ? {} : { updatedAt: updated }),
    };
  });
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseEnvironmentDetail(data: unknown, where: string): EnvironmentDetail {
  const o = record(data, where);
  const live = optNumber(o, "liveGeneration", where);
  const hook = record(o["hook"] ?? {}, `${where}.hook`);
  const onActivate = hook["onActivate"];
  return {
    owner: str(o, "owner", where),
    name: str(o, "name", where),
    visibility: visibility(o, where),
    ...(live === undefined ? {} : { liveGeneration: live }),
    generation: num(o, "generation", where),
    packages: list(o["packages"] ?? [], `${where}.packages`).map((p, i) =>
      parsePackage(p, `${where}.packages[${i}]`),
    ),
    vars: stringRecord(o["vars"] ?? {}, `${where}.vars`),
    hook: typeof onActivate === "string" ? { onActivate } : {},
    profile: stringRecord(o["profile"] ?? {}, `${where}.profile`),
    ...callerMay(o["callerMay"], `${where}.callerMay`),
  };
}

function callerMay(value: unknown, where: string): Pick<EnvironmentDetail, "callerMay"> {
  if (value === undefined || value === null) return {};
  const o = record(value, where);
  return { callerMay: { write: o["write"] === true, administer: o["administer"] === true } };
}

function parsePackage(data: unknown, where: string): PackageInfo {
  const o = record(data, where);
  const priority = optNumber(o, "priority", where);
  return {
    installId: str(o, "installId", where),
    ...optStrings(o, ["pkgPath", "storePath", "version"]),
    systems: list(o["systems"] ?? [], `${where}.systems`).filter((s): s is string => typeof s === "string"),
    ...(priority === undefined ? {} : { priority }),
  };
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseGenerations(data: unknown, where: string): GenerationInfo[] {
  return list(data, where).map((item, i) => {
    const w = `${where}[${i}]`;
    const o = record(item, w);
    const created = optTime(o, "created", w);
    const lastLive = optTime(o, "lastLive", w);
    return {
      generation: num(o, "generation", w),
      ...(created === undefined ? {} : { created }),
      ...(lastLive === undefined ? {} : { lastLive }),
      live: o["live"] === true,
      ...optStrings(o, ["description", "author"]),
    };
  });
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseHistory(data: unknown, where: string): HistoryInfo[] {
  return list(data, where).map((item, i) => parseHistoryEntry(item, `${where}[${i}]`));
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseHistoryEntry(data: unknown, where: string): HistoryInfo {
  const o = record(data, where);
  const previous = optNumber(o, "previousGeneration", where);
  const timestamp = optTime(o, "timestamp", where);
  const command = o["command"];
  return {
    kind: str(o, "kind", where),
    author: typeof o["author"] === "string" ? o["author"] : "",
    hostname: typeof o["hostname"] === "string" ? o["hostname"] : "",
    ...(timestamp === undefined ? {} : { timestamp }),
    currentGeneration: num(o, "currentGeneration", where),
    ...(previous === undefined ? {} : { previousGeneration: previous }),
    ...optStrings(o, ["summary"]),
    ...(Array.isArray(command) && command.every((c) => typeof c === "string") ? { command } : {}),
  };
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseGenerationDiff(data: unknown, where: string): GenerationDiffInfo {
  const o = record(data, where);
  const items = (key: string) =>
    list(o[key] ?? [], `${where}.${key}`).map((item, i) => record(item, `${where}.${key}[${i}]`));
  return {
    from: num(o, "from", where),
    to: num(o, "to", where),
    packages: items("packages").map((p, i) => ({
      installId: str(p, "installId", `${where}.packages[${i}]`),
      change: oneOf(p, "change", ["added", "removed", "upgraded"] as const, `${where}.packages[${i}]`),
      ...optStrings(p, ["from", "to"]),
    })),
    vars: items("vars").map((v, i) => ({
      name: str(v, "name", `${where}.vars[${i}]`),
      change: oneOf(v, "change", ["added", "removed", "changed"] as const, `${where}.vars[${i}]`),
      ...optStrings(v, ["from", "to"]),
    })),
    scripts: items("scripts").map((s, i) => ({
      script: str(s, "script", `${where}.scripts[${i}]`),
      ...optStrings(s, ["from", "to"]),
    })),
  };
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseAudit(data: unknown, where: string): AuditInfo[] {
  return list(data, where).map((item, i) => {
    const w = `${where}[${i}]`;
    const o = record(item, w);
    return {
      at: str(o, "at", w),
      actor: str(o, "actor", w),
      action: str(o, "action", w),
      target: str(o, "target", w),
      ...optStrings(o, ["detail"]),
    };
  });
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseOrg(data: unknown, where: string): OrgInfo {
  const o = record(data, where);
  return {
    name: str(o, "name", where),
    members: list(o["members"] ?? [], `${where}.members`).map((member, i) => {
      const r = record(member, `${where}.members[${i}]`);
      return { handle: str(r, "handle", where), role: str(r, "role", where) };
    }),
    callerMayManage: o["callerMayManage"] === true,
  };
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseCreatedToken(data: unknown, where: string): CreatedToken {
  const o = record(data, where);
  return { id: str(o, "id", where), token: str(o, "token", where), ...optStrings(o, ["expiresAt"]) };
}

/** @throws {ImagelessError} `internal` for a malformed answer. */
export function parseTokenList(data: unknown, where: string): TokenInfo[] {
  return list(data, where).map((item, i) => {
    const w = `${where}[${i}]`;
    const o = record(item, w);
    return {
      id: str(o, "id", w),
      description: typeof o["description"] === "string" ? o["description"] : "",
      createdAt: str(o, "createdAt", w),
      ...optStrings(o, ["expiresAt"]),
      revoked: o["revoked"] === true,
    };
  });
}

function oneOf<T extends string>(
  o: Record<string, unknown>,
  key: string,
  values: readonly T[],
  where: string,
): T {
  const v = o[key];
  return values.find((allowed) => allowed === v) ?? bad(where, key, v);
}

function visibility(o: Record<string, unknown>, where: string): Visibility {
  const v = o["visibility"];
  if (v === "public" || v === "private") return v;
  return bad(where, "visibility", v);
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new ImagelessError("internal", `the hub's answer ${where} is not a JSON object`);
}

function list(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new ImagelessError("internal", `the hub's answer ${where} is not a list`);
}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  return typeof v === "string" ? v : bad(where, key, v);
}

/** Generation numbers may come as numbers or as Flox's decimal strings. */
function num(o: Record<string, unknown>, key: string, where: string): number {
  const v = optNumber(o, key, where);
  return v === undefined ? bad(where, key, o[key]) : v;
}

function optNumber(o: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : bad(where, key, v);
}

function optTime(o: Record<string, unknown>, key: string, where: string): string | number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" || typeof v === "number" ? v : bad(where, key, v);
}

function optStrings<K extends string>(o: Record<string, unknown>, keys: readonly K[]): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const key of keys) {
    const v = o[key];
    if (typeof v === "string") out[key] = v;
  }
  return out;
}

function stringRecord(value: unknown, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value, where))) if (typeof v === "string") out[k] = v;
  return out;
}

function bad(where: string, key: string, value: unknown): never {
  throw new ImagelessError(
    "internal",
    `the hub's answer ${where}.${key} cannot be ${JSON.stringify(value) ?? "undefined"}: the hub and this imageless disagree on docs/hub.md`,
  );
}
