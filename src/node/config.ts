import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { parse, TomlError } from "smol-toml";
import { ImagelessError } from "../errors/imageless-error.js";
import { parseDuration } from "./duration.js";

/** Where the node configuration lives unless `IMAGELESS_CONFIG` says otherwise (SPEC §7). */
export const DEFAULT_CONFIG_PATH = "/etc/imageless/config.toml";
/** Where `imageless node agent` listens unless `[runtime] agent-socket` says otherwise (root-only dir). */
export const DEFAULT_AGENT_SOCKET = "/run/imageless/agent.sock";

/** How the Nix store reaches a container: all of `/nix`, or only the environment's closure. */
export type StoreMount = "store" | "closure";

/** The node configuration of SPEC §7, defaults applied, camelCase, durations in ms, deeply frozen. */
export interface NodeConfig {
  readonly floxhub: {
    /** Hub base URL. */
    readonly url: string;
    /** Explicit git base URL; `""` means derive it from `url`. */
    readonly gitUrl: string;
    /** Node-wide default token file; `""` means none. */
    readonly tokenFile: string;
    /**
     * The hub's own binary cache base (`<hub>/cache`); a start of `owner/name` substitutes from
     * `<cacheUrl>/<owner>` first. The only URL a pod's token is sent to besides the hub's git.
     * `""` means none.
     */
    readonly cacheUrl: string;
    /** How long a cached resolution may be used while the hub is unreachable. */
    readonly offlineGraceMs: number;
  };
  readonly nix: {
    /** The store is at `<storeRoot>/nix/store`. */
    readonly storeRoot: string;
    readonly substituters: readonly string[];
    readonly trustedPublicKeys: readonly string[];
    readonly requireSigs: boolean;
  };
  readonly runtime: {
    /** The real runc; `""` means the first `runc` on PATH that is not the wrapper. */
    readonly runc: string;
    readonly stateDir: string;
    readonly mount: StoreMount;
    /** bash store path for hooks when the environment has none; `""` means none. */
    readonly shell: string;
    /** The node agent's unix socket (`imageless node agent`); bin/imageless-runc reads it too. */
    readonly agentSocket: string;
    /** CA-bundle package (nixpkgs' cacert) for SSL_CERT_FILE when the environment has none; `""` means none. */
    readonly cacert: string;
    /** glibc locales package for LOCALE_ARCHIVE when the environment has none; `""` means none. */
    readonly locales: string;
  };
  readonly gc: {
    /** How long an unused environment's GC root is kept. */
    readonly keepUnusedMs: number;
  };
  readonly telemetry: {
    readonly enabled: boolean;
    /** Where events are sent; `""` means spool locally only. */
    readonly endpoint: string;
  };
}

/** A parsed configuration and the non-fatal findings (unknown keys) a caller should log. */
export interface LoadedNodeConfig {
  readonly config: NodeConfig;
  readonly warnings: readonly string[];
}

/** Options for {@link parseNodeConfig} and {@link loadNodeConfig}. */
export interface NodeConfigOptions {
  /** Unknown keys are an error instead of a warning (`imageless node doctor`, SPEC §7). */
  readonly strict?: boolean;
}

const DEFAULT_TRUSTED_KEYS = [
  "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=",
  "flox-cache-public-1:7F4OyH7ZCnFhcze3fJdfyXYLQw/aV7GEed86nQ7IsOs=",
];

/** The keys each table accepts, in TOML spelling; anything else is reported as unknown. */
const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  floxhub: ["url", "git-url", "token-file", "cache-url", "offline-grace"],
  nix: ["store-root", "substituters", "trusted-public-keys", "require-sigs"],
  runtime: ["runc", "state-dir", "mount", "shell", "agent-socket", "cacert", "locales"],
  gc: ["keep-unused"],
  telemetry: ["enabled", "endpoint"],
};

type Table = Readonly<Record<string, unknown>>;

/** What a reader needs to name the input and collect findings; one per parse, never shared. */
interface Reader {
  readonly source: string;
  readonly strict: boolean;
  readonly warnings: string[];
}

/**
 * Parses the node configuration TOML, applying every default of SPEC §7.
 *
 * @param text the file's contents
 * @param source where the text came from, named in every message (usually the file path)
 * @throws {ImagelessError} `invalid-input` for bad TOML, a wrong type or value, or (strict) an unknown key
 * @example
 * const { config, warnings } = parseNodeConfig(`[runtime]\nmount = "closure"\n`, "/etc/imageless/config.toml");
 * config.runtime.mount; // "closure"
 */
export function parseNodeConfig(
  text: string,
  source: string,
  opts: NodeConfigOptions = {},
): { config: NodeConfig; warnings: string[] } {
  const reader: Reader = { source, strict: opts.strict ?? false, warnings: [] };
  const root = parseToml(text, source);
  for (const name of Object.keys(root)) {
    if (!Object.hasOwn(KNOWN_KEYS, name)) {
      unknownKey(
        reader,
        `[${name}]`,
        `accepted tables are ${listOf(Object.keys(KNOWN_KEYS).map((k) => `[${k}]`))}`,
      );
    }
  }
  const floxhub = section(reader, root, "floxhub");
  const nix = section(reader, root, "nix");
  const runtime = section(reader, root, "runtime");
  const gc = section(reader, root, "gc");
  const telemetry = section(reader, root, "telemetry");
  const config: NodeConfig = {
    floxhub: {
      url: readUrl(reader, floxhub, ["floxhub", "url"], "https://hub.flox.dev", { allowEmpty: false }),
      gitUrl: readUrl(reader, floxhub, ["floxhub", "git-url"], "", { allowEmpty: true }),
      tokenFile: readPath(reader, floxhub, ["floxhub", "token-file"], "", { allowEmpty: true }),
      cacheUrl: readHttpUrl(reader, floxhub, ["floxhub", "cache-url"]),
      offlineGraceMs: readDuration(reader, floxhub, ["floxhub", "offline-grace"], "24h"),
    },
    nix: {
      storeRoot: readPath(reader, nix, ["nix", "store-root"], "/", { allowEmpty: false }),
      substituters: readStrings(
        reader,
        nix,
        ["nix", "substituters"],
        ["https://cache.nixos.org", "https://cache.flox.dev"],
        {
          check: isUrl,
          accepted: "a list of URLs",
        },
      ),
      trustedPublicKeys: readStrings(reader, nix, ["nix", "trusted-public-keys"], DEFAULT_TRUSTED_KEYS, {
        check: (key) => /^[^:\s]+:[A-Za-z0-9+/]+={0,2}$/.test(key),
        accepted: 'a list of keys like "name-1:base64="',
      }),
      requireSigs: readBoolean(reader, nix, ["nix", "require-sigs"], true),
    },
    runtime: {
      runc: readPath(reader, runtime, ["runtime", "runc"], "", { allowEmpty: true }),
      stateDir: readPath(reader, runtime, ["runtime", "state-dir"], "/var/lib/imageless", {
        allowEmpty: false,
      }),
      mount: readMount(reader, runtime),
      shell: readPath(reader, runtime, ["runtime", "shell"], "", { allowEmpty: true }),
      agentSocket: readPath(reader, runtime, ["runtime", "agent-socket"], DEFAULT_AGENT_SOCKET, {
        allowEmpty: false,
      }),
      cacert: readPath(reader, runtime, ["runtime", "cacert"], "", { allowEmpty: true }),
      locales: readPath(reader, runtime, ["runtime", "locales"], "", { allowEmpty: true }),
    },
    gc: { keepUnusedMs: readDuration(reader, gc, ["gc", "keep-unused"], "72h") },
    telemetry: {
      enabled: readBoolean(reader, telemetry, ["telemetry", "enabled"], true),
      endpoint: readUrl(reader, telemetry, ["telemetry", "endpoint"], "", { allowEmpty: true }),
    },
  };
  checkTokenScope(reader, config.floxhub.cacheUrl, config.nix.substituters);
  return { config: deepFreeze(config), warnings: reader.warnings };
}

/**
 * netrc, the only way to give Nix a credential, matches a host name, not a port or a path: a
 * substituter on the hub cache's host would receive the pod's token too. Refused, so the token's
 * reach is exactly the hub's cache.
 */
function checkTokenScope(reader: Reader, cacheUrl: string, substituters: readonly string[]): void {
  if (cacheUrl === "") return;
  const host = new URL(cacheUrl).hostname;
  substituters.forEach((url, index) => {
    if (/^https?:/i.test(url) && new URL(url).hostname === host) {
      fail(
        reader,
        `[nix] substituters[${index}]`,
        url,
        `a substituter may not be on the host of [floxhub] cache-url (${host}), which receives pods' tokens: serve it from another host name or remove it`,
      );
    }
  });
}

/**
 * Reads and parses the node configuration. With no `path`, a missing {@link DEFAULT_CONFIG_PATH}
 * means all defaults (a node may run without a config file); an explicit path must exist.
 *
 * @throws {ImagelessError} `not-found` for a missing explicit path, `failed-precondition` when the
 * file cannot be read, and whatever {@link parseNodeConfig} throws
 * @example
 * const { config, warnings } = await loadNodeConfig(configPathFromEnv(process.env));
 */
export async function loadNodeConfig(
  path: string | undefined,
  opts: NodeConfigOptions = {},
): Promise<LoadedNodeConfig> {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    if (code === "ENOENT" && path === undefined) return parseNodeConfig("", file, opts);
    if (code === "ENOENT") {
      throw new ImagelessError(
        "not-found",
        `config ${file}: no such file: create it or unset IMAGELESS_CONFIG`,
        {
          cause: error,
        },
      );
    }
    throw new ImagelessError("failed-precondition", `config ${file}: cannot read: ${String(code ?? error)}`, {
      cause: error,
    });
  }
  return parseNodeConfig(text, file, opts);
}

/**
 * The config path the environment asks for (`IMAGELESS_CONFIG`), or undefined for the default.
 * The only place that reads this variable, so every entry point agrees on it.
 */
export function configPathFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const path = env["IMAGELESS_CONFIG"];
  return path === undefined || path === "" ? undefined : path;
}

function parseToml(text: string, source: string): Table {
  try {
    // Unsafe keys (`__proto__`) are kept as plain own keys and then reported as unknown.
    return parse(text);
  } catch (error) {
    // smol-toml's message carries a multi-line code excerpt; the user gets its first line and the position.
    const detail =
      error instanceof TomlError
        ? `${error.message.split("\n")[0] ?? ""} (line ${error.line}, column ${error.column})`
        : String(error);
    throw new ImagelessError("invalid-input", `config ${source}: not valid TOML: ${detail}`, {
      cause: error,
    });
  }
}

function section(reader: Reader, root: Table, name: string): Table {
  const value = root[name];
  if (value === undefined) return {};
  if (!isTable(value)) fail(reader, `[${name}]`, value, "accepted value is a table");
  const known = KNOWN_KEYS[name] ?? [];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) unknownKey(reader, `[${name}] ${key}`, `accepted keys are ${listOf(known)}`);
  }
  return value;
}

type KeyPath = readonly [section: string, key: string];

function where([sectionName, key]: KeyPath): string {
  return `[${sectionName}] ${key}`;
}

function readString(reader: Reader, table: Table, at: KeyPath, fallback: string, accepted: string): string {
  const value = table[at[1]];
  if (value === undefined) return fallback;
  if (typeof value !== "string") fail(reader, where(at), value, accepted);
  return value;
}

function readBoolean(reader: Reader, table: Table, at: KeyPath, fallback: boolean): boolean {
  const value = table[at[1]];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") fail(reader, where(at), value, "accepted values are true and false");
  return value;
}

/** What a string key must hold (besides `""` where that is allowed): its name in the error, and the test. */
interface StringKind {
  readonly what: string;
  readonly valid: (value: string) => boolean;
}

/**
 * A reader of string keys holding a `kind` value, or `""` where `allowEmpty`: any other value fails
 * naming what is accepted.
 */
function stringReader(kind: StringKind) {
  return (reader: Reader, table: Table, at: KeyPath, fallback: string, opts: { allowEmpty: boolean }) => {
    const accepted = opts.allowEmpty
      ? `accepted values are "" or ${kind.what}`
      : `accepted value is ${kind.what}`;
    const value = readString(reader, table, at, fallback, accepted);
    if (value === "" && opts.allowEmpty) return value;
    if (!kind.valid(value)) fail(reader, where(at), value, accepted);
    return value;
  };
}

const readUrl = stringReader({ what: "a URL", valid: isUrl });

/** Paths must be absolute: runc and the shim run with the bundle as cwd, so a relative path would drift. */
const readPath = stringReader({
  what: "an absolute path",
  valid: (value) => isAbsolute(value) && !value.includes("\0"),
});

/** `""` or an http(s) URL: a URL a netrc can give credentials to. */
function readHttpUrl(reader: Reader, table: Table, at: KeyPath): string {
  const accepted = 'accepted values are "" or an http:// or https:// URL';
  const value = readString(reader, table, at, "", accepted);
  if (value === "") return value;
  if (!isUrl(value) || !/^https?:$/i.test(new URL(value).protocol)) fail(reader, where(at), value, accepted);
  return value.replace(/\/+$/, "");
}

function readDuration(reader: Reader, table: Table, at: KeyPath, fallback: string): number {
  const accepted = 'accepted form is a duration like "24h", "30m", "90s" or "1h30m"';
  return parseDuration(
    readString(reader, table, at, fallback, accepted),
    `config ${reader.source}: ${where(at)}`,
  );
}

function readMount(reader: Reader, table: Table): StoreMount {
  const at: KeyPath = ["runtime", "mount"];
  const accepted = 'accepted values are "store" and "closure"';
  const value = readString(reader, table, at, "store", accepted);
  if (value !== "store" && value !== "closure") fail(reader, where(at), value, accepted);
  return value;
}

function readStrings(
  reader: Reader,
  table: Table,
  at: KeyPath,
  fallback: readonly string[],
  opts: { check: (item: string) => boolean; accepted: string },
): readonly string[] {
  const value = table[at[1]];
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value)) fail(reader, where(at), value, `accepted value is ${opts.accepted}`);
  return value.map((item: unknown, index) => {
    if (typeof item !== "string" || !opts.check(item)) {
      fail(reader, `${where(at)}[${index}]`, item, `accepted value is ${opts.accepted}`);
    }
    return item;
  });
}

function unknownKey(reader: Reader, name: string, accepted: string): void {
  const message = `config ${reader.source}: unknown key ${name}: ${accepted}`;
  if (reader.strict) throw new ImagelessError("invalid-input", message);
  reader.warnings.push(message);
}

function fail(reader: Reader, name: string, value: unknown, accepted: string): never {
  throw new ImagelessError(
    "invalid-input",
    `config ${reader.source}: ${name}: cannot use ${show(value)}: ${accepted}`,
  );
}

/** A value as the user wrote it, on one line and short, so the message stays one readable line. */
function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date-time";
  if (isTable(value)) return "a table";
  return String(value);
}

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function isUrl(text: string): boolean {
  return URL.canParse(text);
}

function listOf(items: readonly string[]): string {
  const quoted = items.map((item) => (item.startsWith("[") ? item : `"${item}"`));
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
