/**
 * The line for a file-system error that reached the top of a start without an owner to explain it,
 * or undefined for any other error (pure). A full disk under the state directory or the store is the
 * one an operator meets in practice; Node's own message ("ENOSPC: no space left on device, write")
 * names no place and no remedy.
 */
export function systemErrorLine(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  const { code } = error as NodeJS.ErrnoException;
  const path = (error as NodeJS.ErrnoException).path;
  const where = path === undefined ? "" : ` writing ${path}`;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return `no space left on the node's disk${where}: free space under [runtime] state-dir and [nix] store-root, then start the pod again (nothing half-written is used)`;
  }
  if (code === "EROFS") {
    return `the node's file system is read-only${where}: [runtime] state-dir and [nix] store-root must be writable`;
  }
  return undefined;
}
