/**
 * The hub's binary-cache signing key: an ed25519 key kept in `<dataDir>/signing-key` as a Nix secret
 * key file (`<name>:<base64 of the 32-byte seed followed by the 32-byte public key>`, what
 * `nix-store --generate-binary-cache-key` writes), created on first start.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../../errors/imageless-error.js";

/** The hub's key: its name, the public key nodes trust, and a signer. */
export interface SigningKey {
  readonly name: string;
  /** `<name>:<base64 public key>`, the entry for a node's `trusted-public-keys`. */
  readonly publicKey: string;
  /** A Nix signature of `fingerprint`: `<name>:<base64 ed25519 signature>`. */
  sign(fingerprint: string): string;
}

/** The key name used when the hub creates its key. */
export const DEFAULT_KEY_NAME = "imageless-hub-1";

/**
 * Reads `<dataDir>/signing-key`, creating it (mode 0600) when missing. Two hubs starting at once on
 * one data directory end up with the same key: the file appears whole or not at all (link(2)).
 *
 * @throws {ImagelessError} `invalid-input` when the file exists but is not a Nix ed25519 secret key.
 * @example
 * const key = await loadOrCreateSigningKey(dataDir);
 * key.publicKey; // "imageless-hub-1:Vx…="
 */
export async function loadOrCreateSigningKey(dataDir: string, name = DEFAULT_KEY_NAME): Promise<SigningKey> {
  const path = join(dataDir, "signing-key");
  const existing = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (existing !== undefined) return parseSecretKey(existing, path);
  await mkdir(dataDir, { recursive: true });
  const { privateKey } = generateKeyPairSync("ed25519");
  const text = formatSecretKey(name, privateKey);
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temp);
  }
  return parseSecretKey(await readFile(path, "utf8"), path);
}

/**
 * Parses a Nix secret key file's text (pure apart from key object creation).
 *
 * @throws {ImagelessError} `invalid-input` naming `source`.
 */
export function parseSecretKey(text: string, source: string): SigningKey {
  const match = /^([^:\s]+):([A-Za-z0-9+/]+={0,2})$/.exec(text.trim());
  const bytes = match?.[2] === undefined ? undefined : Buffer.from(match[2], "base64");
  if (match?.[1] === undefined || bytes?.length !== 64) {
    throw new ImagelessError(
      "invalid-input",
      `${source} is not a Nix signing key: expected "<name>:<base64 of 64 bytes>" as nix-store --generate-binary-cache-key writes`,
    );
  }
  const name = match[1];
  const publicBytes = bytes.subarray(32);
  const privateKey = createPrivateKey({
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: bytes.subarray(0, 32).toString("base64url"),
      x: publicBytes.toString("base64url"),
    },
    format: "jwk",
  });
  // A key file whose halves do not belong together would sign with a key nodes do not trust.
  const derived = publicKeyBytes(privateKey);
  if (!derived.equals(publicBytes)) {
    throw new ImagelessError("invalid-input", `${source}: the public half does not match the secret half`);
  }
  return Object.freeze({
    name,
    publicKey: `${name}:${publicBytes.toString("base64")}`,
    sign: (fingerprint: string) =>
      `${name}:${sign(null, Buffer.from(fingerprint), privateKey).toString("base64")}`,
  });
}

function formatSecretKey(name: string, privateKey: KeyObject): string {
  const jwk = privateKey.export({ format: "jwk" });
  if (typeof jwk.d !== "string") throw new Error("node:crypto exported an ed25519 key without its seed");
  const seed = Buffer.from(jwk.d, "base64url");
  return `${name}:${Buffer.concat([seed, publicKeyBytes(privateKey)]).toString("base64")}`;
}

function publicKeyBytes(privateKey: KeyObject): Buffer {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new Error("node:crypto exported an ed25519 public key without x");
  return Buffer.from(jwk.x, "base64url");
}
