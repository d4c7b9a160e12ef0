/**
 * The closed set of error classes, like containerd's errdefs: callers branch on `kind`,
 * never on message text (e.g. offline grace applies to `unavailable`, never to `unauthorized`).
 */
export type ErrorKind =
  | "invalid-input" // a value a user wrote (annotation, config, manifest) is not accepted
  | "not-found" // an environment, generation or store path does not exist
  | "unauthorized" // no token, a wrong one, or an expired one
  | "unavailable" // the hub or a cache cannot be reached right now
  | "unsupported" // valid input this version does not handle (flake entries, …)
  | "failed-precondition" // the node is not set up for this (no nix, no runc, …)
  | "internal";

/**
 * An error whose `message` is the one line a platform engineer reads (after the `imageless: ` prefix
 * the wrapper adds); `cause` keeps the detail for the node log.
 *
 * @example
 * throw new ImagelessError("invalid-input", `annotation flox.dev/nix-mutable: cannot use "yes": accepted values are "true" and "false"`);
 */
export class ImagelessError extends Error {
  override readonly name = "ImagelessError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** True for an {@link ImagelessError} of the given kind. */
export function isErrorKind(error: unknown, kind: ErrorKind): error is ImagelessError {
  return error instanceof ImagelessError && error.kind === kind;
}
