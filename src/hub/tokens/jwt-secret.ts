import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImagelessError } from "../../errors/imageless-error.js";

/**
 * The hub's HS256 key, `<dataDir>/jwt-secret` (0600), created on first use. It lives beside the data,
 * not in the database, so a database dump cannot mint tokens.
 *
 * @throws {ImagelessError} `failed-precondition` when the file exists but is not a key this hub wrote.
 */
export async function loadOrCreateJwtSecret(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, "jwt-secret");
  await mkdir(dataDir, { recursive: true });
  // Written whole to a private file, then linked into place: when two processes start together one
  // link wins, and the other never reads a half-written key.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(temp, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await rm(temp, { force: true });
  }
  const key = Buffer.from((await readFile(path, "utf8")).trim(), "base64url");
  if (key.length < 32) {
    throw new ImagelessError(
      "failed-precondition",
      `${path}: the key is shorter than 32 bytes; remove the file to create a new one (all user tokens stop working)`,
    );
  }
  return key;
}
