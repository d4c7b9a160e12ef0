import type { Access, Principal, Visibility } from "../access.js";
import type { Role } from "./role.js";

/**
 * What a caller may do with an environment of `owner` (pure). `role` is the caller's role in `owner`
 * when `owner` is an organisation and the caller a member; `visibility` is undefined when the
 * environment is not in the index (then only those who may write under `owner` see it).
 *
 * @example
 * environmentAccessFor({ principal: undefined, owner: "acme", visibility: "public" }); // "read"
 */
export function environmentAccessFor(opts: {
  principal: Principal | undefined;
  owner: string;
  visibility: Visibility | undefined;
  role?: Role | undefined;
}): Access {
  const asOwner = ownerAccessFor(opts);
  if (asOwner !== "none") return asOwner;
  return opts.visibility === "public" ? "read" : "none";
}

/**
 * What a caller may do as `owner` (pure): write = push and create environments, switch and roll back.
 * Admins, the user named `owner`, the organisation's machine tokens and its owners and writers
 * write; its readers read.
 */
export function ownerAccessFor(opts: {
  principal: Principal | undefined;
  owner: string;
  role?: Role | undefined;
}): Access {
  const p = opts.principal;
  if (p === undefined) return "none";
  if (p.admin || p.name === opts.owner) return "write";
  if (opts.role === "owner" || opts.role === "writer") return "write";
  return opts.role === "reader" ? "read" : "none";
}

/**
 * Whether a caller may manage `owner`'s organisation settings (members, machine tokens) or change
 * the visibility of `owner`'s environments (pure): admins, the user `owner` itself and org owners.
 * Machine tokens may not: they push, they do not administer.
 */
export function mayAdminister(opts: {
  principal: Principal | undefined;
  owner: string;
  role?: Role | undefined;
}): boolean {
  const p = opts.principal;
  if (p === undefined || p.kind !== "user") return false;
  return p.admin || p.name === opts.owner || opts.role === "owner";
}

/**
 * Why a membership change would leave an organisation without an owner (pure), or undefined when it
 * is fine. `members` are the current members; `change` sets `handle` to `role`, or removes it.
 */
export function lastOwnerProblem(
  org: string,
  members: readonly { handle: string; role: Role }[],
  change: { handle: string; role: Role | undefined },
): string | undefined {
  const owners = members.filter((m) => m.role === "owner" && m.handle !== change.handle).length;
  if (owners > 0 || change.role === "owner") return undefined;
  const wasOwner = members.some((m) => m.handle === change.handle && m.role === "owner");
  return wasOwner
    ? `"${change.handle}" is the last owner of organisation "${org}": make another member owner first`
    : undefined;
}
