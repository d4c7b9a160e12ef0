import { type ErrorKind, ImagelessError } from "../errors/imageless-error.js";
import type { Secret } from "../log/secret.js";
import {
  type Account,
  type AuditInfo,
  type CreatedToken,
  type EnvironmentDetail,
  type EnvironmentSummary,
  type GenerationDiffInfo,
  type GenerationInfo,
  type HistoryInfo,
  type OrgInfo,
  parseAccount,
  parseAudit,
  parseCreatedToken,
  parseEnvironmentDetail,
  parseEnvironmentList,
  parseGenerationDiff,
  parseGenerations,
  parseHistory,
  parseHistoryEntry,
  parseOrg,
  parseTokenList,
  type TokenInfo,
  type Visibility,
} from "./api-types.js";
import { deriveApiBaseUrl } from "./hub-urls.js";

/** Where the hub is and who is asking. */
export interface HubClientOptions {
  readonly hubUrl: string;
  /** Sent as `Authorization: Bearer`; anonymous without. */
  readonly token?: Secret;
  /** Per request (default 30 s). */
  readonly timeoutMs?: number;
}

/** An environment on the hub, `owner/name`. */
export interface EnvRef {
  readonly owner: string;
  readonly name: string;
}

/**
 * A typed client of the hub's JSON API (docs/hub.md, `/api/v1`). Every answer is parsed into the
 * documented shape; every failure is one {@link ImagelessError} whose kind follows the HTTP status.
 *
 * @example
 * const hub = new HubApiClient({ hubUrl: "http://127.0.0.1:7878", token });
 * const me = await hub.me();
 */
export class HubApiClient {
  readonly #base: string;
  readonly #token: Secret | undefined;
  readonly #timeoutMs: number;

  constructor(opts: HubClientOptions) {
    this.#base = deriveApiBaseUrl(opts.hubUrl);
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** The account the token belongs to. @throws {ImagelessError} `unauthorized` without a valid token. */
  async me(): Promise<Account> {
    return parseAccount(await this.#call("GET", "/accounts/me", "reading the account of the token"), "me");
  }

  /** Environments the caller may read. */
  async listEnvironments(
    filter: { owner?: string; visibility?: Visibility } = {},
  ): Promise<EnvironmentSummary[]> {
    const query = new URLSearchParams();
    if (filter.owner !== undefined) query.set("owner", filter.owner);
    if (filter.visibility !== undefined) query.set("visibility", filter.visibility);
    const q = query.size === 0 ? "" : `?${query.toString()}`;
    return parseEnvironmentList(
      await this.#call("GET", `/environments${q}`, "listing environments"),
      "environments",
    );
  }

  /** One generation (the live one by default) of an environment. */
  async environment(ref: EnvRef, generation?: number): Promise<EnvironmentDetail> {
    const q = generation === undefined ? "" : `?generation=${generation}`;
    const data = await this.#call("GET", `${envPath(ref)}${q}`, `reading environment '${display(ref)}'`);
    return parseEnvironmentDetail(data, "environment");
  }

  /** Every generation of an environment, with which one is live. */
  async generations(ref: EnvRef): Promise<GenerationInfo[]> {
    const data = await this.#call(
      "GET",
      `${envPath(ref)}/generations`,
      `listing generations of '${display(ref)}'`,
    );
    return parseGenerations(data, "generations");
  }

  /** The audit trail of an environment, oldest first. */
  async history(ref: EnvRef): Promise<HistoryInfo[]> {
    const data = await this.#call(
      "GET",
      `${envPath(ref)}/history`,
      `reading the history of '${display(ref)}'`,
    );
    return parseHistory(data, "history");
  }

  /** Makes `generation` live; returns the new `switch_generation` history entry. */
  async switchGeneration(ref: EnvRef, generation: number): Promise<HistoryInfo> {
    const data = await this.#call(
      "POST",
      `${envPath(ref)}/switch`,
      `switching '${display(ref)}' to generation ${generation}`,
      { generation },
    );
    return parseHistoryEntry(data, "switch");
  }

  /** Switches back to the previously live generation; returns the new history entry. */
  async rollback(ref: EnvRef): Promise<HistoryInfo> {
    const data = await this.#call("POST", `${envPath(ref)}/rollback`, `rolling back '${display(ref)}'`, {});
    return parseHistoryEntry(data, "rollback");
  }

  /** Makes an environment public or private. */
  async setVisibility(ref: EnvRef, visibility: Visibility): Promise<void> {
    await this.#call("PUT", `${envPath(ref)}/visibility`, `making '${display(ref)}' ${visibility}`, {
      visibility,
    });
  }

  /** What changed from generation `from` to `to` (the live one when omitted). */
  async diff(ref: EnvRef, from: number, to?: number): Promise<GenerationDiffInfo> {
    const q = new URLSearchParams({ from: String(from), ...(to === undefined ? {} : { to: String(to) }) });
    const data = await this.#call(
      "GET",
      `${envPath(ref)}/diff?${q.toString()}`,
      `comparing generations ${from} and ${to ?? "live"} of '${display(ref)}'`,
    );
    return parseGenerationDiff(data, "diff");
  }

  /** Deletes an environment: its floxmeta branch and its index row (owners only; audited). */
  async deleteEnvironment(ref: EnvRef): Promise<void> {
    await this.#call("DELETE", envPath(ref), `deleting '${display(ref)}'`);
  }

  /** The audit events of `owner` (owners only), oldest first. */
  async audit(owner: string): Promise<AuditInfo[]> {
    const q = new URLSearchParams({ owner });
    return parseAudit(
      await this.#call("GET", `/audit?${q.toString()}`, `reading the audit events of '${owner}'`),
      "audit",
    );
  }

  /** Creates an organisation; the caller becomes its owner. */
  async createOrg(name: string): Promise<void> {
    await this.#call("POST", "/orgs", `creating organisation ${name}`, { name });
  }

  /** An organisation and its members (members only). */
  async org(name: string): Promise<OrgInfo> {
    return parseOrg(await this.#call("GET", orgPath(name), `reading organisation ${name}`), "org");
  }

  /** Adds `handle` to the organisation, or changes their role (org owners only). */
  async setMember(org: string, handle: string, role: string): Promise<void> {
    await this.#call("PUT", `${orgPath(org)}/members/${enc(handle)}`, `adding ${handle} to ${org}`, { role });
  }

  /** Removes `handle` from the organisation (org owners only). */
  async removeMember(org: string, handle: string): Promise<void> {
    await this.#call("DELETE", `${orgPath(org)}/members/${enc(handle)}`, `removing ${handle} from ${org}`);
  }

  /** A new token: the caller's own (a user token), or a machine token of `org`. */
  async createToken(opts: { org?: string; description?: string } = {}): Promise<CreatedToken> {
    const body = opts.description === undefined ? {} : { description: opts.description };
    return parseCreatedToken(
      await this.#call("POST", tokensPath(opts.org), "creating a token", body),
      "token",
    );
  }

  /** The caller's tokens, or the machine tokens of `org`. */
  async tokens(org?: string): Promise<TokenInfo[]> {
    return parseTokenList(await this.#call("GET", tokensPath(org), "listing tokens"), "tokens");
  }

  /** Revokes one of the caller's tokens, or a machine token of `org`. */
  async revokeToken(id: string, org?: string): Promise<void> {
    await this.#call("DELETE", `${tokensPath(org)}/${enc(id)}`, `revoking token ${id}`);
  }

  async #call(method: string, path: string, action: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token !== undefined) headers["authorization"] = `Bearer ${this.#token.reveal()}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: "error",
      });
    } catch (error) {
      throw new ImagelessError(
        "unavailable",
        `${action}: the hub at ${this.#base} is unreachable: ${reason(error)}`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      throw new ImagelessError(
        statusKind(response.status),
        `${action}: ${hubErrorLine(response.status, text)}`,
      );
    }
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ImagelessError(
        "internal",
        `${action}: the hub answered HTTP ${response.status} with non-JSON`,
        {
          cause: error,
        },
      );
    }
  }
}

/** The error kind of a failed API call by HTTP status (pure). */
export function statusKind(status: number): ErrorKind {
  if (status === 400 || status === 422) return "invalid-input";
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not-found";
  if (status === 409) return "failed-precondition";
  if (status >= 500) return "unavailable";
  return "internal";
}

/** The one line to show for an error answer: the hub's `{ error }` text, else the status (pure). */
export function hubErrorLine(status: number, body: string): string {
  try {
    const data: unknown = JSON.parse(body);
    if (typeof data === "object" && data !== null && "error" in data && typeof data.error === "string") {
      return `${data.error} (HTTP ${status})`;
    }
  } catch {
    // Not JSON (a proxy's HTML page): fall through to the status line.
  }
  return `the hub answered HTTP ${status}`;
}

function envPath(ref: EnvRef): string {
  return `/environments/${encodeURIComponent(ref.owner)}/${encodeURIComponent(ref.name)}`;
}

function orgPath(name: string): string {
  return `/orgs/${enc(name)}`;
}

function tokensPath(org: string | undefined): string {
  return org === undefined ? "/tokens" : `${orgPath(org)}/tokens`;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function display(ref: EnvRef): string {
  return `${ref.owner}/${ref.name}`;
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
