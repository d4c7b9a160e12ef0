import { ImagelessError } from "../../errors/imageless-error.js";

/**
 * An environment name from input (pure). It becomes a git branch name, so only a safe subset is
 * accepted: letters, digits, ".", "_" and "-", not starting with "." or "-", no "..", no ".lock" end.
 *
 * @throws {ImagelessError} `invalid-input` naming the value and the accepted form.
 * @example
 * parseEnvironmentName("web"); // "web"
 */
export function parseEnvironmentName(value: unknown): string {
  if (
    typeof value === "string" &&
    /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/.test(value) &&
    !value.includes("..") &&
    !value.endsWith(".lock")
  ) {
    return value;
  }
  throw new ImagelessError(
    "invalid-input",
    `environment name ${JSON.stringify(value ?? null)} is not accepted: use up to 100 of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter, digit or "_"`,
  );
}
