/**
 * How much the hub accepts from one caller (pure): request bodies, git pushes, the files inside a
 * pushed floxmeta commit, and binary-cache uploads. Every limit has a default and a `hub serve` flag
 * (docs/hub.md); a refusal names the limit, the size and the flag that raises it.
 */
import { ImagelessError } from "../errors/imageless-error.js";

/** The hub's limits, in bytes. */
export interface HubLimits {
  /** A JSON API request body (`--max-api-body`). */
  readonly apiBodyBytes: number;
  /** One git push (the pack receive-pack reads, `--max-push`). */
  readonly pushBytes: number;
  /** One file of a pushed floxmeta commit: `metadata.json`, manifests, locks (`--max-blob`). */
  readonly blobBytes: number;
  /** One uploaded NAR file, and the unpacked NAR it holds (`--max-nar`). */
  readonly narBytes: number;
  /** The NAR bytes one owner's cache namespace may hold (`--cache-quota`). */
  readonly ownerQuotaBytes: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The defaults: generous for real environments, small enough that one caller cannot fill a disk. */
export const DEFAULT_HUB_LIMITS: HubLimits = Object.freeze({
  apiBodyBytes: 64 * 1024,
  pushBytes: 64 * MiB,
  blobBytes: 8 * MiB,
  narBytes: 4 * GiB,
  ownerQuotaBytes: 50 * GiB,
});

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: GiB,
  gb: GiB,
  gib: GiB,
  t: 1024 * GiB,
  tb: 1024 * GiB,
  tib: 1024 * GiB,
};

/**
 * A byte size as a person writes it: `512`, `64KiB`, `8M`, `4GiB` (binary units) (pure).
 *
 * @throws {ImagelessError} `invalid-input` naming the option, the value and the accepted forms.
 * @example
 * parseByteSize("8MiB", "--max-blob"); // 8388608
 */
export function parseByteSize(text: string, option: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = UNITS[(match?.[2] ?? "?").toLowerCase()];
  const value = match === null || unit === undefined ? Number.NaN : Number(match[1]) * unit;
  if (!Number.isSafeInteger(Math.floor(value)) || value < 1) {
    throw new ImagelessError(
      "invalid-input",
      `${option} ${JSON.stringify(text)} is not accepted: use a size ≥ 1 byte such as 512, 64KiB, 8MiB or 4GiB`,
    );
  }
  return Math.floor(value);
}

/**
 * A duration: `30m`, `24h`, `7d`, `90s` (pure).
 *
 * @throws {ImagelessError} `invalid-input` naming the option, the value and the accepted forms.
 */
export function parseDurationMs(text: string, option: string): number {
  const match = /^\s*([0-9]+)\s*(ms|s|m|h|d)\s*$/.exec(text);
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  if (match === null) {
    throw new ImagelessError(
      "invalid-input",
      `${option} ${JSON.stringify(text)} is not accepted: use a duration such as 90s, 30m, 24h or 7d`,
    );
  }
  return Number(match[1]) * (scale[match[2] ?? "s"] ?? 1000);
}

/** A byte count for messages: `8.0 MiB` (pure). */
export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/**
 * Input over one of the hub's limits (HTTP 413). Its kind stays `invalid-input` for callers that
 * branch on kinds; the hub's services tell it from other bad input by this class.
 */
export class TooLargeError extends ImagelessError {
  constructor(message: string) {
    super("invalid-input", message);
  }
}

/**
 * The refusal of a size: `<what> is <size>, over the hub's limit of <limit> (hub serve <flag>)`; without
 * a flag the limit is fixed.
 */
export function tooLarge(
  what: string,
  size: number | undefined,
  limit: number,
  flag?: string,
): TooLargeError {
  const actual = size === undefined ? "larger than" : `${formatBytes(size)}, over`;
  const raise = flag === undefined ? "" : ` (hub serve ${flag})`;
  return new TooLargeError(`${what} is ${actual} the hub's limit of ${formatBytes(limit)}${raise}`);
}
