import { type Command, Option } from "commander";
import { ImagelessError } from "../errors/imageless-error.js";
import { loadOrCreateSigningKey } from "../hub/binary-cache/signing-key.js";
import {
  DEFAULT_HUB_LIMITS,
  formatBytes,
  type HubLimits,
  parseByteSize,
  parseDurationMs,
} from "../hub/hub-limits.js";
import { HubApiClient } from "../hub-client/api-client.js";
import { readCredentials, readHubUrl } from "../hub-client/credentials.js";
import { normaliseHubUrl } from "../hub-client/hub-urls.js";
import { coalescingSink, createLogger } from "../log/logger.js";
import { Secret } from "../log/secret.js";
import { loadHubPart } from "./hub-parts.js";

const DEFAULT_DATA_DIR = "/var/lib/imageless-hub";

interface StoreFlags {
  dataDir: string;
  database?: string;
}
interface ApiFlags {
  hub?: string;
  token?: string;
}

/** `imageless hub …` (see docs/hub.md): serve, and manage users, organisations and tokens. */
export function registerHubCommands(program: Command): void {
  const hub = program.command("hub").description("run a hub and manage its accounts (docs/hub.md)");

  storeOptions(hub.command("serve").description("serve the hub: /api/v1, /git, /cache and the web UI"))
    .option("--listen <host:port>", "address to listen on (port 0: any free port)", "127.0.0.1:7878")
    .option("--public-url <url>", "the URL clients reach this hub at")
    .option("--max-api-body <size>", "largest JSON API request body", "64KiB")
    .option("--max-push <size>", "largest git push (pack size)", "64MiB")
    .option(
      "--max-blob <size>",
      "largest file in a pushed environment (metadata.json, manifests, locks)",
      "8MiB",
    )
    .option("--max-nar <size>", "largest NAR file uploaded to the cache (it may unpack to 16x this)", "4GiB")
    .option("--cache-quota <size>", "NAR bytes one owner's cache namespace may hold", "50GiB")
    .action(async (opts: StoreFlags & LimitFlags & { listen: string; publicUrl?: string }) => {
      // Every request is logged: one write per event-loop turn, not one per line.
      const log = createLogger(
        coalescingSink((text) => process.stderr.write(text)),
        { component: "hub" },
      );
      const { startHub } = await loadHubPart("hub serve", () => import("../hub/server.js"));
      const running = await startHub({
        listen: opts.listen,
        dataDir: opts.dataDir,
        limits: limitsOf(opts),
        ...(opts.database === undefined ? {} : { database: opts.database }),
        ...(opts.publicUrl === undefined ? {} : { publicUrl: normaliseHubUrl(opts.publicUrl) }),
        log,
      });
      await new Promise<void>((resolve) => {
        process.once("SIGTERM", resolve);
        process.once("SIGINT", resolve);
      });
      await running.close();
      log.info("hub.stopped");
    });

  hub
    .command("cache-key")
    .description("print the public key of the hub's binary cache (for nodes' trusted-public-keys)")
    .option("--data-dir <dir>", "the hub's data directory", DEFAULT_DATA_DIR)
    .action(async (opts: { dataDir: string }) => {
      print((await loadOrCreateSigningKey(opts.dataDir)).publicKey);
    });

  hub
    .command("gc")
    .description("remove cached paths no environment of their owner uses, and NAR files nothing names")
    .option("--data-dir <dir>", "the hub's data directory", DEFAULT_DATA_DIR)
    .option("--grace <duration>", "keep anything younger than this (uploads on their way)", "24h")
    .action(async (opts: { dataDir: string; grace: string }) => {
      const log = createLogger((line) => process.stderr.write(line), { component: "hub" });
      const graceMs = parseDurationMs(opts.grace, "--grace");
      const { collectCache } = await import("../hub/binary-cache/cache-gc.js");
      const result = await collectCache(opts.dataDir, { graceMs, now: Date.now(), log });
      const bytes = result.nars.reduce((sum, nar) => sum + nar.size, 0);
      print(
        `removed ${result.narInfos.length} cached paths and ${result.nars.length} NAR files (${formatBytes(bytes)})${result.legacy > 0 ? ` and ${result.legacy} narinfos of the un-namespaced cache` : ""}`,
      );
    });

  const user = hub.command("user").description("users (on the hub's database directly)");
  storeOptions(
    user.command("create").argument("<handle>").description("create a user and print a token for them"),
  )
    .option("--admin", "make the user a hub admin", false)
    .action(async (handle: string, opts: StoreFlags & { admin: boolean }) => {
      const { createUserDirect } = await loadHubPart(
        "hub user create",
        () => import("../hub/accounts/bootstrap.js"),
      );
      const created = await createUserDirect(storeOf(opts), handle, { admin: opts.admin });
      process.stderr.write(
        `created ${created.admin ? "admin " : ""}user ${created.handle}; token ${created.tokenId} expires ${new Date(created.expiresAt).toISOString()}\n`,
      );
      process.stdout.write(`${created.token.reveal()}\n`);
    });
  storeOptions(user.command("list").description("list users")).action(async (opts: StoreFlags) => {
    const { listUsersDirect } = await loadHubPart(
      "hub user list",
      () => import("../hub/accounts/bootstrap.js"),
    );
    for (const u of await listUsersDirect(storeOf(opts))) {
      process.stdout.write(
        `${u.handle}${u.admin ? "\tadmin" : ""}\tcreated ${new Date(u.createdAt).toISOString()}\n`,
      );
    }
  });

  const org = hub.command("org").description("organisations (through the API, with your token)");
  apiOptions(org.command("create").argument("<name>")).action(async (name: string, opts: ApiFlags) => {
    await (await apiClient(opts)).createOrg(name);
    print(`created organisation ${name}; you are its owner`);
  });
  apiOptions(org.command("add-member").argument("<org>").argument("<handle>"))
    .addOption(
      new Option("--role <role>", "the member's role")
        .choices(["owner", "writer", "reader"])
        .default("reader"),
    )
    .action(async (name: string, handle: string, opts: ApiFlags & { role: string }) => {
      await (await apiClient(opts)).setMember(name, handle, opts.role);
      print(`${handle} is ${opts.role} of ${name}`);
    });
  apiOptions(org.command("remove-member").argument("<org>").argument("<handle>")).action(
    async (name: string, handle: string, opts: ApiFlags) => {
      await (await apiClient(opts)).removeMember(name, handle);
      print(`${handle} is no longer a member of ${name}`);
    },
  );
  apiOptions(
    org.command("list").argument("[org]").description("your organisations, or the members of one"),
  ).action(async (name: string | undefined, opts: ApiFlags) => {
    const client = await apiClient(opts);
    if (name === undefined) {
      for (const o of (await client.me()).orgs) print(`${o.name}\t${o.role}`);
      return;
    }
    for (const m of (await client.org(name)).members) print(`${m.handle}\t${m.role}`);
  });

  const token = hub
    .command("token")
    .description("tokens (yours, or an organisation's machine tokens with --org)");
  apiOptions(token.command("create"))
    .option("--description <text>", "what the token is for")
    .option("--org <org>", "create a machine token of this organisation (valid until revoked)")
    .action(async (opts: ApiFlags & { description?: string; org?: string }) => {
      const created = await (await apiClient(opts)).createToken({
        ...(opts.org === undefined ? {} : { org: opts.org }),
        ...(opts.description === undefined ? {} : { description: opts.description }),
      });
      process.stderr.write(`created token ${created.id}\n`);
      print(created.token);
    });
  apiOptions(token.command("list"))
    .option("--org <org>", "list the machine tokens of this organisation")
    .action(async (opts: ApiFlags & { org?: string }) => {
      for (const t of await (await apiClient(opts)).tokens(opts.org)) {
        const revoked = t.revoked ? "\trevoked" : "";
        print(
          `${t.id}\tcreated ${t.createdAt}\texpires ${t.expiresAt ?? "never"}${revoked}\t${t.description}`,
        );
      }
    });
  apiOptions(token.command("revoke").argument("<id>"))
    .option("--org <org>", "the token is a machine token of this organisation")
    .action(async (id: string, opts: ApiFlags & { org?: string }) => {
      await (await apiClient(opts)).revokeToken(id, opts.org);
      print(`revoked token ${id}`);
    });
}

interface LimitFlags {
  maxApiBody: string;
  maxPush: string;
  maxBlob: string;
  maxNar: string;
  cacheQuota: string;
}

function limitsOf(opts: LimitFlags): HubLimits {
  return {
    ...DEFAULT_HUB_LIMITS,
    apiBodyBytes: parseByteSize(opts.maxApiBody, "--max-api-body"),
    pushBytes: parseByteSize(opts.maxPush, "--max-push"),
    blobBytes: parseByteSize(opts.maxBlob, "--max-blob"),
    narBytes: parseByteSize(opts.maxNar, "--max-nar"),
    ownerQuotaBytes: parseByteSize(opts.cacheQuota, "--cache-quota"),
  };
}

function storeOptions(command: Command): Command {
  return command
    .option("--data-dir <dir>", "the hub's data directory", DEFAULT_DATA_DIR)
    .addOption(
      new Option("--database <url>", "PostgreSQL URL (default: SQLite in the data directory)").env(
        "IMAGELESS_HUB_DATABASE",
      ),
    );
}

function apiOptions(command: Command): Command {
  return command
    .option("--hub <url>", "the hub (default: $IMAGELESS_HUB or the one you logged in to)")
    .option("--token <token>", "your token (default: $IMAGELESS_TOKEN or the one you logged in with)");
}

function storeOf(opts: StoreFlags) {
  return { dataDir: opts.dataDir, ...(opts.database === undefined ? {} : { database: opts.database }) };
}

/** A client of the hub with your token: flags, then $IMAGELESS_HUB/$IMAGELESS_TOKEN and the credentials file. */
async function apiClient(opts: ApiFlags): Promise<HubApiClient> {
  const hubUrl = opts.hub ?? (await readHubUrl());
  const token = opts.token === undefined ? (await readCredentials())?.token : new Secret(opts.token);
  if (hubUrl === undefined || token === undefined) {
    throw new ImagelessError(
      "unauthorized",
      "no hub token: pass --hub and --token, set IMAGELESS_HUB and IMAGELESS_TOKEN, or run imageless auth login",
    );
  }
  return new HubApiClient({ hubUrl: normaliseHubUrl(hubUrl), token });
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
