import type { SpecModifier } from "../spec.js";

/** Adds annotations to the edited spec (what was resolved, for exec, gc, status and telemetry). */
export function addAnnotations(annotations: Readonly<Record<string, string>>): SpecModifier {
  return (spec) => ({ ...spec, annotations: { ...spec.annotations, ...annotations } });
}
