import type { SpecModifier } from "../spec.js";

/** Sets the process environment (and args when given) to the activated ones; other process fields are kept. */
export function activateProcess(env: readonly string[], args?: readonly string[]): SpecModifier {
  return (spec) => ({
    ...spec,
    process: { ...spec.process, env: [...env], ...(args === undefined ? {} : { args: [...args] }) },
  });
}
