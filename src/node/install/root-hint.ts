import { ImagelessError } from "../../errors/imageless-error.js";

/**
 * A permission error from the file system becomes the one line an operator needs (`run … as root`);
 * any other error is returned unchanged. Pure.
 *
 * @example
 * try { … } catch (error) { throw withRootHint(error, "install"); }
 */
export function withRootHint(error: unknown, command: string): unknown {
  if (!(error instanceof Error) || !("code" in error)) return error;
  if (error.code !== "EACCES" && error.code !== "EPERM" && error.code !== "EROFS") return error;
  const path = "path" in error && typeof error.path === "string" ? ` ${error.path}` : "";
  const why = error.code === "EROFS" ? "read-only file system" : "permission denied";
  return new ImagelessError(
    "failed-precondition",
    `cannot write${path}: ${why}: run \`imageless node ${command}\` as root${error.code === "EROFS" ? " on a writable host root" : ""}`,
    { cause: error },
  );
}
