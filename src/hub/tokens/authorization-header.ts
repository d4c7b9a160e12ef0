import { ImagelessError } from "../../errors/imageless-error.js";
import { Secret } from "../../log/secret.js";

/**
 * The token in an `Authorization` header (pure): `Bearer <token>` (API) or Basic `oauth:<token>`
 * (git, Nix), the way Flox sends it. Undefined without a header or with an empty Basic password
 * (Flox sends one when it has no token: that is an anonymous request).
 *
 * @throws {ImagelessError} `unauthorized` for another scheme or a malformed value.
 * @example
 * tokenFromAuthorization("Bearer abc")?.reveal(); // "abc"
 */
export function tokenFromAuthorization(header: string | undefined): Secret | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const [scheme = "", value = ""] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme) && value !== "") return new Secret(value);
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new ImagelessError("unauthorized", "Basic authorization must be oauth:<token>");
    const password = decoded.slice(colon + 1);
    return password === "" ? undefined : new Secret(password);
  }
  throw new ImagelessError(
    "unauthorized",
    // The scheme is not quoted: a header without one starts with the token itself.
    "the Authorization header is not accepted: use Bearer <token> or Basic oauth:<token>",
  );
}
