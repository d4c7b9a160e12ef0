import { ImagelessError } from "../errors/imageless-error.js";
import { parseOwner } from "../names/environment-names.js";

const HOSTED_HUB = /^hub(\.[a-z0-9-]+)?\.flox\.dev$/;
const ACCEPTED_SCHEMES = ["http:", "https:", "file:"];

/**
 * The git base URL for a hub, derived as Flox does: `https://hub.flox.dev` →
 * `https://api.flox.dev/git`, `https://hub.<x>.flox.dev` → `https://api.<x>.flox.dev/git`, any other
 * hub `<url>/git`. An explicit git URL (node config `floxhub.git-url`, also `file://`) wins.
 *
 * @throws {ImagelessError} `invalid-input` for a URL that does not parse or has another scheme.
 * @example
 * deriveGitBaseUrl("https://hub.flox.dev"); // "https://api.flox.dev/git"
 * deriveGitBaseUrl("http://127.0.0.1:7878"); // "http://127.0.0.1:7878/git"
 */
export function deriveGitBaseUrl(hubUrl: string, explicitGitUrl?: string): string {
  if (explicitGitUrl !== undefined && explicitGitUrl.trim() !== "") {
    return withoutTrailingSlash(checkedUrl(explicitGitUrl.trim(), "floxhub git-url").href);
  }
  const url = checkedUrl(hubUrl.trim(), "floxhub url");
  if (HOSTED_HUB.test(url.hostname)) {
    // Flox's hosted hubs serve git from the api host, not the hub host.
    return `https://${url.hostname.replace(/^hub/, "api")}/git`;
  }
  return `${withoutTrailingSlash(url.href)}/git`;
}

/**
 * The floxmeta repository of `owner` under a git base URL.
 *
 * @throws {ImagelessError} `invalid-input` for an owner that is not a plain name.
 * @example
 * floxmetaUrl("https://api.flox.dev/git", "acme"); // "https://api.flox.dev/git/acme/floxmeta"
 */
export function floxmetaUrl(gitBase: string, owner: string): string {
  return `${withoutTrailingSlash(gitBase)}/${parseOwner(owner, "environment owner")}/floxmeta`;
}

function checkedUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ImagelessError(
      "invalid-input",
      `${what} "${value}" is not a URL: accepted are http://, https:// and file:// URLs`,
    );
  }
  if (!ACCEPTED_SCHEMES.includes(url.protocol)) {
    throw new ImagelessError(
      "invalid-input",
      `${what} "${value}" has scheme ${url.protocol}: accepted are http://, https:// and file:// URLs`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    // Credentials in a URL end up in logs and error messages; tokens go in the token file.
    throw new ImagelessError(
      "invalid-input",
      `${what} must not contain credentials: put the token in the token file`,
    );
  }
  return url;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
