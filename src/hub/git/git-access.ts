/**
 * Who may do what on a floxmeta repository over git smart HTTP (pure decisions; git-service.ts
 * gathers the facts and acts).
 *
 * Read visibility: every request is served from a per-caller view of the owner's repository. Branches
 * the caller may not read are hidden with git's own `hideRefs` (deny by default: everything is hidden
 * and only readable branches are un-hidden), and upload-pack speaks protocol v0, which refuses a
 * `want` that is not reachable from a visible ref (v2 does not check), so a private branch can be
 * neither listed nor fetched by its commit id. An anonymous caller without credentials whose view
 * would miss a branch gets a Basic challenge first: git answers it with the user's token (Flox's
 * credential helper sends `oauth:<token>`, or `oauth:` without one, which is then served the public view).
 */

import { isOwner } from "../../names/environment-names.js";
import type { Access } from "../access.js";
import type { PushAccess } from "./push-validation.js";

/** A parsed `/git/<owner>/floxmeta/…` smart-HTTP request. */
export interface GitTarget {
  readonly owner: string;
  readonly service: "upload-pack" | "receive-pack";
  /** `advertise` = GET info/refs?service=…, `rpc` = POST git-<service>. */
  readonly phase: "advertise" | "rpc";
  /** The path below `/git`, as http-backend's PATH_INFO. */
  readonly pathInfo: string;
}

/** Owner names as the hub accepts handles and organisation names. */

/**
 * Parses a request line into a smart-HTTP target, or undefined for anything else (the dumb protocol's
 * file paths included: they would bypass the per-caller view).
 *
 * @example
 * parseGitTarget("GET", "/git/acme/floxmeta/info/refs?service=git-upload-pack");
 * // { owner: "acme", service: "upload-pack", phase: "advertise", pathInfo: "/acme/floxmeta/info/refs" }
 */
export function parseGitTarget(method: string, url: string): GitTarget | undefined {
  const [path = "", query = ""] = url.split("?", 2);
  const match = /^\/git\/([^/]+)\/floxmeta\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(path);
  if (match === null || match[1] === undefined || !isOwner(match[1])) return undefined;
  const owner = match[1];
  const pathInfo = path.slice("/git".length);
  if (match[2] === "info/refs") {
    const service = new URLSearchParams(query).get("service");
    if (method !== "GET" || (service !== "git-upload-pack" && service !== "git-receive-pack"))
      return undefined;
    return {
      owner,
      service: service === "git-upload-pack" ? "upload-pack" : "receive-pack",
      phase: "advertise",
      pathInfo,
    };
  }
  if (method !== "POST") return undefined;
  return {
    owner,
    service: match[2] === "git-upload-pack" ? "upload-pack" : "receive-pack",
    phase: "rpc",
    pathInfo,
  };
}

/** How the request authenticated, from its Authorization header alone. */
export type Credentials = "none" | "empty" | "token";

/**
 * Classifies an Authorization header (pure): absent, Basic with an empty password (git's answer to a
 * challenge when the user has no token), or something carrying a token.
 */
export function classifyCredentials(authorization: string | undefined): Credentials {
  if (authorization === undefined || authorization.trim() === "") return "none";
  const basic = /^Basic\s+(\S*)$/i.exec(authorization.trim());
  if (basic !== null) {
    const decoded = Buffer.from(basic[1] ?? "", "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0 || decoded.slice(colon + 1) === "") return "empty";
  }
  return "token";
}

/** What the hub knows about the caller and the repository when it decides. */
export interface GitRequestFacts {
  readonly service: GitTarget["service"];
  readonly credentials: Credentials;
  /** The caller's name when a token identified them. */
  readonly principal?: string | undefined;
  readonly repoExists: boolean;
  /** Every branch of the repository with the caller's access to that environment. */
  readonly branches: readonly { readonly name: string; readonly access: Access }[];
  readonly ownerAccess: Access;
}

/** The decision: refuse with a status (and a Basic challenge for 401), or serve a view. */
export type GitDecision =
  | { readonly kind: "refuse"; readonly status: 401 | 403 | 404; readonly message: string }
  | {
      readonly kind: "serve";
      /** Extra git config for this request (the caller's view). */
      readonly config: readonly (readonly [string, string])[];
      /** For receive-pack: what the pre-receive hook may accept. */
      readonly push?: PushAccess;
      readonly createRepo: boolean;
    };

/**
 * Decides one git request (pure).
 *
 * @example
 * decideGitRequest({ service: "receive-pack", credentials: "none", repoExists: true, branches: [], ownerAccess: "none" });
 * // { kind: "refuse", status: 401, message: "pushing to 'acme' needs a token …" }
 */
export function decideGitRequest(owner: string, facts: GitRequestFacts): GitDecision {
  const readable = facts.branches.filter((b) => b.access !== "none").map((b) => b.name);
  const hidden = facts.branches.filter((b) => b.access === "none").map((b) => b.name);
  const who = facts.principal === undefined ? "an anonymous caller" : `'${facts.principal}'`;
  if (facts.service === "upload-pack") {
    if (!facts.repoExists) return refuse(404, `owner '${owner}' has no environments`);
    if (hidden.length > 0 && facts.credentials === "none") {
      return refuse(401, `reading every environment of '${owner}' needs a token`);
    }
    if (readable.length === 0 && hidden.length > 0) {
      return facts.principal === undefined
        ? refuse(401, `the environments of '${owner}' are private: a token is needed`)
        : refuse(403, `${who} may not read any environment of '${owner}'`);
    }
    return { kind: "serve", config: uploadViewConfig(readable), createRepo: false };
  }
  if (facts.principal === undefined) return refuse(401, `pushing to '${owner}' needs a token`);
  const push: PushAccess = {
    create: facts.ownerAccess === "write",
    write: facts.branches.filter((b) => b.access === "write").map((b) => b.name),
  };
  if (!push.create && push.write.length === 0) return refuse(403, `${who} may not push to '${owner}'`);
  return { kind: "serve", config: receiveViewConfig(hidden), push, createRepo: !facts.repoExists };
}

/** upload-pack's view: everything hidden (HEAD too, which may point at any branch), readable un-hidden. */
export function uploadViewConfig(readable: readonly string[]): [string, string][] {
  return [
    ["uploadpack.hideRefs", "refs"],
    ["uploadpack.hideRefs", "HEAD"],
    ...readable.map((name): [string, string] => ["uploadpack.hideRefs", `!refs/heads/${name}`]),
  ];
}

/**
 * receive-pack's view: unreadable branches hidden (git then also refuses to update them). Not deny by
 * default there, because receive-pack refuses to create a hidden ref and new environments must be
 * creatable; the pre-receive hook decides those.
 */
export function receiveViewConfig(hidden: readonly string[]): [string, string][] {
  return hidden.map((name): [string, string] => ["receive.hideRefs", `refs/heads/${name}`]);
}

function refuse(status: 401 | 403 | 404, message: string): GitDecision {
  return { kind: "refuse", status, message };
}
