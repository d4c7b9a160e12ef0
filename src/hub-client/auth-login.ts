import { readFile } from "node:fs/promises";
import { ImagelessError } from "../errors/imageless-error.js";
import { Secret } from "../log/secret.js";
import { HubApiClient } from "./api-client.js";
import type { Account } from "./api-types.js";
import { type CredentialsEnv, writeCredentials } from "./credentials.js";

/** What {@link loginWithTokenFile} did. */
export interface LoginResult {
  readonly hubUrl: string;
  readonly account: Account;
  /** Where the credentials were saved. */
  readonly path: string;
}

/**
 * Reads a token from `tokenFile` (`-` = stdin), checks it with `GET /api/v1/accounts/me` and saves
 * it with the hub in the credentials file. Nothing is saved when the hub refuses the token.
 *
 * @throws {ImagelessError} `invalid-input` for an empty file, `unauthorized` for a refused token.
 * @example
 * const { account } = await loginWithTokenFile("http://127.0.0.1:7878", "/run/secrets/hub-token");
 */
export async function loginWithTokenFile(
  hubUrl: string,
  tokenFile: string,
  env: CredentialsEnv = process.env,
): Promise<LoginResult> {
  const token = await readTokenFile(tokenFile);
  const account = await new HubApiClient({ hubUrl, token }).me();
  const path = await writeCredentials({ hubUrl, token }, env);
  return { hubUrl, account, path };
}

/**
 * The token in a file or on stdin (`-`), surrounding white space removed.
 *
 * @throws {ImagelessError} `not-found` for a missing file, `invalid-input` for an empty one.
 */
export async function readTokenFile(tokenFile: string): Promise<Secret> {
  let text: string;
  try {
    text = tokenFile === "-" ? await readStdin() : await readFile(tokenFile, "utf8");
  } catch (error) {
    throw new ImagelessError(
      "not-found",
      `cannot read token file ${tokenFile}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const token = text.trim();
  if (token === "" || /\s/.test(token)) {
    throw new ImagelessError(
      "invalid-input",
      `token file ${tokenFile === "-" ? "(stdin)" : tokenFile} must hold one token on one line`,
    );
  }
  return new Secret(token);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}
