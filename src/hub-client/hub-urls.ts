import { ImagelessError } from "../errors/imageless-error.js";

/** The hub used when neither `--hub`, `$IMAGELESS_HUB` nor the credentials name one. */
export const DEFAULT_HUB_URL = "https://hub.flox.dev";

const HOSTED_HUB = /^hub(\.[a-z0-9-]+)?\.flox\.dev$/;

/**
 * The `/api/v1` base of a hub, derived as Flox does for its API: `hub.<x>.flox.dev` →
 * `https://api.<x>.flox.dev/api/v1`, any other hub `<url>/api/v1` (pure).
 *
 * @throws {ImagelessError} `invalid-input` for a URL that is not http(s).
 * @example
 * deriveApiBaseUrl("http://127.0.0.1:7878/"); // "http://127.0.0.1:7878/api/v1"
 */
export function deriveApiBaseUrl(hubUrl: string): string {
  const url = checkedHubUrl(hubUrl);
  if (HOSTED_HUB.test(url.hostname)) return `https://${url.hostname.replace(/^hub/, "api")}/api/v1`;
  return `${base(url)}/api/v1`;
}

/**
 * The binary cache namespace of `owner` on a hub, `<hub>/cache/<owner>` (pure).
 *
 * @throws {ImagelessError} `invalid-input` for a URL that is not http(s).
 * @example
 * deriveCacheUrl("http://127.0.0.1:7878", "acme"); // "http://127.0.0.1:7878/cache/acme"
 */
export function deriveCacheUrl(hubUrl: string, owner: string): string {
  return `${base(checkedHubUrl(hubUrl))}/cache/${encodeURIComponent(owner)}`;
}

/**
 * A hub URL as given by a person, validated and without a trailing slash (pure).
 *
 * @throws {ImagelessError} `invalid-input` naming the value and the accepted schemes.
 */
export function normaliseHubUrl(hubUrl: string): string {
  return base(checkedHubUrl(hubUrl));
}

function checkedHubUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ImagelessError(
      "invalid-input",
      `hub URL "${value}" is not a URL: accepted are http:// and https:// URLs`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImagelessError(
      "invalid-input",
      `hub URL "${value}" has scheme ${url.protocol}: accepted are http:// and https:// URLs`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new ImagelessError(
      "invalid-input",
      "hub URL must not contain credentials: use `imageless auth login`",
    );
  }
  return url;
}

function base(url: URL): string {
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}
