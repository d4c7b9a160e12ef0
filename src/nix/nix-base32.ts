/**
 * Nix's base-32 text form of hashes (the `sha256:1b8m…` in narinfo files and nar file names): its own
 * alphabet (no e, o, u, t) and its own bit order, least significant bits last in the text.
 */
const ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";

/**
 * Encodes bytes as Nix base-32 (pure).
 *
 * @example
 * toNixBase32(createHash("sha256").update("abc").digest());
 * // "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"
 */
export function toNixBase32(bytes: Uint8Array): string {
  const length = Math.floor((bytes.length * 8 - 1) / 5) + 1;
  let text = "";
  // Character n (counting from the end of the text) holds bits 5n … 5n+4 of the little-endian number.
  for (let n = length - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = Math.floor(bit / 8);
    const j = bit % 8;
    const low = (bytes[i] ?? 0) >> j;
    const high = i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0;
    text += ALPHABET[(low | high) & 0x1f];
  }
  return text;
}

/** True for a `sha256:<52 Nix base-32 characters>` hash, the form narinfo fingerprints use. */
export function isNixSha256(value: string): boolean {
  return /^sha256:[0-9a-df-np-sv-z]{52}$/.test(value);
}
