import { ImagelessError } from "./imageless-error.js";

/**
 * `JSON.parse` of a document a user or a hub wrote, with the project's error for bad JSON: one line
 * naming the input. V8's message quotes the input, which may hold newlines, so they are folded into
 * spaces.
 *
 * @param source names the input in the error, e.g. `metadata.json of 'acme/web'`.
 * @throws {ImagelessError} `invalid-input` when `text` is not JSON.
 * @example
 * parseJson("{", "x.lock"); // throws "x.lock is not valid JSON: Expected property name or '}' in JSON at position 1 …"
 */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message.replace(/\s+/g, " ");
    throw new ImagelessError("invalid-input", `${source} is not valid JSON: ${reason}`, { cause: error });
  }
}
