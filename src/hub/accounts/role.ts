import { ImagelessError } from "../../errors/imageless-error.js";

/** A member's role in an organisation: owner (manage), writer (push, switch), reader (read private). */
export type Role = "owner" | "writer" | "reader";

const ROLES: readonly Role[] = ["owner", "writer", "reader"];

/**
 * A role from request input.
 *
 * @throws {ImagelessError} `invalid-input` naming the value and the accepted roles.
 * @example
 * parseRole("writer"); // "writer"
 */
export function parseRole(value: unknown): Role {
  const role = ROLES.find((r) => r === value);
  if (role !== undefined) return role;
  throw new ImagelessError(
    "invalid-input",
    `role ${JSON.stringify(value ?? null)} is not accepted: use "owner", "writer" or "reader"`,
  );
}
