import { ImagelessError } from "../../errors/imageless-error.js";
import { hubErrorLine, statusKind } from "../../hub-client/api-client.js";
import { deriveApiBaseUrl } from "../../hub-client/hub-urls.js";
import type { Secret } from "../../log/secret.js";

/** Which hub to call and with what token. */
export interface ApiTarget {
  readonly hubUrl: string;
  readonly token: Secret;
}

/**
 * One `/api/v1` call for the `imageless hub org|token …` commands: JSON in, JSON out, a failure
 * becomes one {@link ImagelessError} line (the hub's `{ error }` text) whose kind follows the status.
 *
 * @throws {ImagelessError} `unavailable` when the hub cannot be reached; the status's kind otherwise.
 * @example
 * await callHubApi(target, "POST", "/orgs", { name: "acme" }, "creating organisation acme");
 */
export async function callHubApi(
  target: ApiTarget,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  opts: { body?: unknown; action: string },
): Promise<unknown> {
  const base = deriveApiBaseUrl(target.hubUrl);
  const headers: Record<string, string> = {
    accept: "application/json",
    authorization: `Bearer ${target.token.reveal()}`,
  };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      signal: AbortSignal.timeout(30_000),
      redirect: "error",
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ImagelessError("unavailable", `${opts.action}: the hub at ${base} is unreachable: ${reason}`, {
      cause: error,
    });
  }
  const text = await response.text();
  if (!response.ok)
    throw new ImagelessError(
      statusKind(response.status),
      `${opts.action}: ${hubErrorLine(response.status, text)}`,
    );
  try {
    return text.trim() === "" ? {} : (JSON.parse(text) as unknown);
  } catch (error) {
    throw new ImagelessError("internal", `${opts.action}: the hub answered with non-JSON`, { cause: error });
  }
}
