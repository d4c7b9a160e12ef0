import { ImagelessError } from "../../errors/imageless-error.js";

/**
 * An authenticated caller asked for something their account may not do (HTTP 403). Its kind stays
 * `unauthorized` for callers that branch on kinds; the API tells it from a missing or bad token
 * (HTTP 401) by this class.
 *
 * @example
 * throw new ForbiddenError(`"bob" may not manage organisation "acme": only its owners may`);
 */
export class ForbiddenError extends ImagelessError {
  constructor(message: string) {
    super("unauthorized", message);
  }
}
