/**
 * Who a hub request is and what they may do: the seam between the hub's identity store (accounts,
 * organisations, tokens) and the services that guard data with it (git, cache, API, web UI).
 */
export type Access = "none" | "read" | "write";

/** An authenticated caller. Anonymous callers are `undefined`. */
export interface Principal {
  readonly kind: "user" | "org-token";
  /** The user's handle, or the organisation's name for a machine token. */
  readonly name: string;
  readonly admin: boolean;
}

export interface HubAccess {
  /**
   * The caller of a request from its `Authorization` header: `Bearer <token>` or Basic `oauth:<token>`.
   * Undefined when there is no header (anonymous).
   *
   * @throws {ImagelessError} `unauthorized` for an unknown, revoked or expired token (the message says
   * which, and for an expired one when; it never contains the token).
   */
  identify(authorization: string | undefined): Promise<Principal | undefined>;
  /** What the caller may do with environment `owner/name` (public environments: read for anyone). */
  environmentAccess(principal: Principal | undefined, owner: string, name: string): Promise<Access>;
  /** What the caller may do as `owner` (write = may create environments and push under it). */
  ownerAccess(principal: Principal | undefined, owner: string): Promise<Access>;
}

export type Visibility = "public" | "private";

/** The hub's index of environments (the database's view; git holds their content). */
export interface EnvironmentIndex {
  /** Records that `owner/name` was pushed (creates it as private when new, updates its time). */
  recordPush(owner: string, name: string): Promise<void>;
  /** Every environment with its visibility. */
  list(): Promise<readonly { owner: string; name: string; visibility: Visibility }[]>;
}

/** What the hub's HTTP services (git, cache, API, web) are built from; the server wires one. */
export interface HubServices {
  /** The hub's data directory: `git/<owner>/floxmeta`, `cache/`, `signing-key`, `hub.sqlite`. */
  readonly dataDir: string;
  readonly access: HubAccess;
  readonly environments: EnvironmentIndex;
}
