/**
 * The parts of the OCI runtime spec (config.json) the runtime reads or edits. Every other field is
 * kept as-is: modifiers spread the objects they touch, so unknown fields survive a round trip.
 */
export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  [key: string]: unknown;
}

export interface OciProcess {
  args?: string[];
  env?: string[];
  cwd?: string;
  terminal?: boolean;
  [key: string]: unknown;
}

export interface OciSpec {
  ociVersion?: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean; [key: string]: unknown };
  mounts?: OciMount[];
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** One spec edit, one concern; returns a new spec and is idempotent. */
export type SpecModifier = (spec: OciSpec) => OciSpec;

/** A list of edits is itself an edit, applied in order. */
export function applyModifiers(spec: OciSpec, modifiers: readonly SpecModifier[]): OciSpec {
  return modifiers.reduce((current, modify) => modify(current), spec);
}
