/**
 * A real in-memory implementation of the hub's access seam (HubAccess + EnvironmentIndex) and a small
 * fastify app serving the git and cache routes with it: for testing those services without the
 * hub's database. Tokens are plain strings mapped to principals; organisations have member roles.
 */
import type { AddressInfo } from "node:net";
import fastify from "fastify";
import { ImagelessError } from "../../src/errors/imageless-error.js";
import type {
  Access,
  EnvironmentIndex,
  HubAccess,
  HubServices,
  Principal,
  Visibility,
} from "../../src/hub/access.js";

export type Role = "owner" | "writer" | "reader";

/** Users, organisations, tokens and environments held in maps. */
export class InMemoryHubAccess implements HubAccess, EnvironmentIndex {
  readonly tokens = new Map<string, Principal>();
  /** org → handle → role */
  readonly orgs = new Map<string, Map<string, Role>>();
  /** "owner/name" → visibility */
  readonly environments = new Map<string, Visibility>();
  /** Every recordPush call, as "owner/name", in order. */
  readonly pushes: string[] = [];

  /** Adds a user and returns a token for them. */
  addUser(handle: string): string {
    const token = `token-of-${handle}-${Math.random().toString(36).slice(2)}`;
    this.tokens.set(token, { kind: "user", name: handle, admin: false });
    return token;
  }

  /** Adds `handle` to `org` with `role`. */
  addMember(org: string, handle: string, role: Role): void {
    const members = this.orgs.get(org) ?? new Map<string, Role>();
    members.set(handle, role);
    this.orgs.set(org, members);
  }

  async identify(authorization: string | undefined): Promise<Principal | undefined> {
    if (authorization === undefined) return undefined;
    const token = tokenOf(authorization);
    const principal = token === undefined ? undefined : this.tokens.get(token);
    if (principal === undefined)
      throw new ImagelessError("unauthorized", "the token is not known to this hub");
    return principal;
  }

  async ownerAccess(principal: Principal | undefined, owner: string): Promise<Access> {
    if (principal === undefined) return "none";
    if (principal.name === owner) return "write";
    const role = principal.kind === "user" ? this.orgs.get(owner)?.get(principal.name) : undefined;
    if (role === "owner" || role === "writer") return "write";
    return role === "reader" ? "read" : "none";
  }

  async environmentAccess(principal: Principal | undefined, owner: string, name: string): Promise<Access> {
    const byOwner = await this.ownerAccess(principal, owner);
    if (byOwner !== "none") return byOwner;
    return this.environments.get(`${owner}/${name}`) === "public" ? "read" : "none";
  }

  async recordPush(owner: string, name: string): Promise<void> {
    const key = `${owner}/${name}`;
    this.pushes.push(key);
    if (!this.environments.has(key)) this.environments.set(key, "private");
  }

  async list(): Promise<readonly { owner: string; name: string; visibility: Visibility }[]> {
    return [...this.environments].map(([key, visibility]) => {
      const [owner = "", name = ""] = key.split("/");
      return { owner, name, visibility };
    });
  }
}

function tokenOf(authorization: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (bearer !== null) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(authorization);
  if (basic === null) return undefined;
  const decoded = Buffer.from(basic[1] ?? "", "base64").toString("utf8");
  return decoded.startsWith("oauth:") ? decoded.slice("oauth:".length) : undefined;
}

/** A running test hub. */
export interface TestHub {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the routes `register` adds on 127.0.0.1 and a random port.
 *
 * @example
 * const hub = await startTestHub((app) => registerGitRoutes(app, services, log));
 * t.after(() => hub.close());
 */
export async function startTestHub(register: (app: ReturnType<typeof fastify>) => void): Promise<TestHub> {
  const app = fastify({ logger: false });
  register(app);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

/** HubServices over an {@link InMemoryHubAccess}. */
export function inMemoryServices(dataDir: string, access: InMemoryHubAccess): HubServices {
  return { dataDir, access, environments: access };
}
