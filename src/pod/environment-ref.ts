/** A reference to a FloxHub environment as a pod writes it: `owner/name` or `owner/name:N`. */
export interface EnvironmentRef {
  readonly owner: string;
  readonly name: string;
  /** Exactly this generation; absent means the hub's live generation at container start. */
  readonly generation?: number;
}

/** `owner/name` or `owner/name:N`, the form used in annotations, logs and messages. */
export function formatEnvironmentRef(ref: EnvironmentRef): string {
  return ref.generation === undefined
    ? `${ref.owner}/${ref.name}`
    : `${ref.owner}/${ref.name}:${ref.generation}`;
}
