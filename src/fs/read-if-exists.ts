import { readFile } from "node:fs/promises";
import { ImagelessError } from "../errors/imageless-error.js";

/**
 * A text file's content, or undefined when it does not exist (an optional file: credentials, a
 * `.flox` lock). Any other failure is an error naming the path.
 *
 * @throws {ImagelessError} `failed-precondition` when the file exists but cannot be read.
 */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ImagelessError("failed-precondition", `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
