import { mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "smol-toml";
import { ImagelessError } from "../errors/imageless-error.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { readFileIfExists } from "../fs/read-if-exists.js";
import { Secret } from "../log/secret.js";
import { normaliseHubUrl } from "./hub-urls.js";

/** A hub and the token to use with it. */
export interface Credentials {
  readonly hubUrl: string;
  readonly token: Secret;
}

/** The variables the credentials read; `process.env` by default, a record in tests. */
export type CredentialsEnv = Readonly<Record<string, string | undefined>>;

/**
 * `$XDG_CONFIG_HOME/imageless/credentials.toml` (`~/.config/imageless/…` without XDG_CONFIG_HOME).
 *
 * @example
 * credentialsPath({ XDG_CONFIG_HOME: "/tmp/c" }); // "/tmp/c/imageless/credentials.toml"
 */
export function credentialsPath(env: CredentialsEnv = process.env): string {
  const xdg = env["XDG_CONFIG_HOME"];
  const configHome = xdg?.startsWith("/") ? xdg : join(homedir(), ".config");
  return join(configHome, "imageless", "credentials.toml");
}

/**
 * The saved hub and token, with `$IMAGELESS_HUB` and `$IMAGELESS_TOKEN` overriding the file.
 * Undefined when there is no token (a hub alone is returned by {@link readHubUrl}).
 *
 * @throws {ImagelessError} `invalid-input` when the file is not the TOML this module writes.
 * @example
 * const creds = await readCredentials();
 * if (creds) console.log(creds.hubUrl); // never print creds.token
 */
export async function readCredentials(env: CredentialsEnv = process.env): Promise<Credentials | undefined> {
  const saved = await readSaved(env);
  const token = nonEmpty(env["IMAGELESS_TOKEN"]) ?? saved.token;
  const hubUrl = await readHubUrl(env, saved);
  if (token === undefined || hubUrl === undefined) return undefined;
  return { hubUrl, token: new Secret(token) };
}

/**
 * The hub to use when no `--hub` is given: `$IMAGELESS_HUB`, else the credentials file's, else undefined.
 *
 * @throws {ImagelessError} `invalid-input` for a malformed credentials file or hub URL.
 */
export async function readHubUrl(
  env: CredentialsEnv = process.env,
  saved?: { hub?: string },
): Promise<string | undefined> {
  const hub = nonEmpty(env["IMAGELESS_HUB"]) ?? (saved ?? (await readSaved(env))).hub;
  return hub === undefined ? undefined : normaliseHubUrl(hub);
}

/**
 * Saves `hubUrl` and `token`, readable only by the user (0600), replacing what was there.
 *
 * @example
 * await writeCredentials({ hubUrl: "http://127.0.0.1:7878", token: new Secret(text) });
 */
export async function writeCredentials(
  creds: Credentials,
  env: CredentialsEnv = process.env,
): Promise<string> {
  const path = credentialsPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const text = `# written by imageless auth login; holds a secret\n${stringify({
    hub: normaliseHubUrl(creds.hubUrl),
    token: creds.token.reveal(),
  })}\n`;
  await writeFileAtomic(path, text, 0o600);
  return path;
}

/** Deletes the saved credentials; true when there were some. */
export async function removeCredentials(env: CredentialsEnv = process.env): Promise<boolean> {
  const path = credentialsPath(env);
  const existed = (await readFileIfExists(path)) !== undefined;
  await rm(path, { force: true });
  return existed;
}

async function readSaved(env: CredentialsEnv): Promise<{ hub?: string; token?: string }> {
  const path = credentialsPath(env);
  const text = await readFileIfExists(path);
  if (text === undefined) return {};
  let data: Record<string, unknown>;
  try {
    data = parse(text);
  } catch {
    // The parser's message quotes the line, which may hold the token: keep it out of the message.
    throw new ImagelessError(
      "invalid-input",
      `${path} is not valid TOML: run \`imageless auth login\` again`,
      {
        cause: new Error("TOML parse error (detail withheld: the file holds a token)"),
      },
    );
  }
  const hub = data["hub"];
  const token = data["token"];
  if ((hub !== undefined && typeof hub !== "string") || (token !== undefined && typeof token !== "string")) {
    throw new ImagelessError(
      "invalid-input",
      `${path}: hub and token must be strings: run \`imageless auth login\` again`,
    );
  }
  const kept = nonEmpty(token);
  return { ...(hub === undefined ? {} : { hub }), ...(kept === undefined ? {} : { token: kept }) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
