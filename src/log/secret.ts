import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A value that must never be printed: a FloxHub token. The value lives in a private field and is
 * read only through `reveal()`; every way of turning it into text prints `[redacted]`.
 *
 * @example
 * const token = new Secret(readFileSync(path, "utf8").trim());
 * JSON.stringify({ token }); // {"token":"[redacted]"}
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
