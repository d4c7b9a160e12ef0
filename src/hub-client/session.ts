import { Secret } from "../log/secret.js";
import { type CredentialsEnv, readCredentials, readHubUrl } from "./credentials.js";
import { DEFAULT_HUB_URL, normaliseHubUrl } from "./hub-urls.js";

/** The hub a command talks to and the token it sends there (if any). */
export interface HubSession {
  readonly hubUrl: string;
  readonly token?: Secret;
}

/**
 * Picks the hub and token for a command (pure): `--hub`, else `$IMAGELESS_HUB`/the saved hub, else
 * hub.flox.dev. The saved token goes only to the hub it was saved for, so `--hub` pointing elsewhere
 * never leaks it; `$IMAGELESS_TOKEN` is sent to whichever hub is chosen (the caller set both).
 *
 * @example
 * chooseSession("http://127.0.0.1:7878", { hubUrl: "https://hub.flox.dev", token }, undefined); // no token
 */
export function chooseSession(
  flagHub: string | undefined,
  saved: { hubUrl?: string; token?: Secret } | undefined,
  envToken: string | undefined,
): HubSession {
  const hubUrl = normaliseHubUrl(flagHub ?? saved?.hubUrl ?? DEFAULT_HUB_URL);
  if (envToken !== undefined && envToken.trim() !== "") return { hubUrl, token: new Secret(envToken.trim()) };
  const token = saved?.hubUrl === hubUrl ? saved.token : undefined;
  return token === undefined ? { hubUrl } : { hubUrl, token };
}

/**
 * The session for a command from its `--hub` flag, the environment and the credentials file.
 *
 * @throws {ImagelessError} `invalid-input` for a malformed hub URL or credentials file.
 */
export async function loadSession(
  flagHub: string | undefined,
  env: CredentialsEnv = process.env,
): Promise<HubSession> {
  // The file's token is only meaningful with its own hub: read it without the env token override.
  const fileOnly = { ...env, IMAGELESS_TOKEN: undefined };
  const creds = await readCredentials(fileOnly);
  const hubUrl = creds?.hubUrl ?? (await readHubUrl(env));
  const saved = creds === undefined ? (hubUrl === undefined ? undefined : { hubUrl }) : creds;
  return chooseSession(flagHub, saved, env["IMAGELESS_TOKEN"]);
}
