import { ImagelessError } from "../errors/imageless-error.js";

/**
 * `host:port` from `--listen` (pure); IPv6 hosts in brackets (`[::1]:7878`); port 0 picks a free one.
 *
 * @throws {ImagelessError} `invalid-input` naming the value and the accepted form.
 * @example
 * parseListen("127.0.0.1:7878"); // { host: "127.0.0.1", port: 7878 }
 */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new ImagelessError(
      "invalid-input",
      `--listen ${JSON.stringify(value)} is not accepted: use host:port, e.g. 127.0.0.1:7878 or [::1]:7878`,
    );
  }
  return { host, port };
}
