import { ImagelessError } from "../errors/imageless-error.js";

/** Milliseconds per unit; days are accepted because retention windows are often written that way. */
const UNIT_MS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

/**
 * Parses a duration such as `"24h"`, `"30m"`, `"90s"` or `"1h30m"` into milliseconds.
 * Groups are whole numbers with a unit (`d`, `h`, `m`, `s`, `ms`), written without spaces.
 *
 * @param text the value as written
 * @param key what the value is, for the error message (e.g. `config /etc/imageless/config.toml: [gc] keep-unused`)
 * @throws {ImagelessError} `invalid-input` naming the key, the value and the accepted form
 * @example
 * parseDuration("1h30m", "[gc] keep-unused"); // 5_400_000
 */
export function parseDuration(text: string, key: string): number {
  // Sticky, so groups must follow each other with nothing between; `ms` comes before `m` so "500ms"
  // is not read as "500m" followed by a stray "s". Local, because a sticky regex carries state.
  const GROUP = /(\d+)(ms|d|h|m|s)/y;
  let total = 0;
  let groups = 0;
  let end = 0;
  while (GROUP.lastIndex < text.length) {
    const match = GROUP.exec(text);
    const unit = match?.[2];
    const amount = match?.[1];
    if (match === null || unit === undefined || amount === undefined) break;
    total += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
    groups += 1;
    end = GROUP.lastIndex;
  }
  if (groups === 0 || end !== text.length || !Number.isSafeInteger(total)) {
    throw new ImagelessError(
      "invalid-input",
      `${key}: cannot use ${JSON.stringify(text)}: accepted form is a duration like "24h", "30m", "90s" or "1h30m" (units d, h, m, s, ms)`,
    );
  }
  return total;
}
