/**
 * The Pod manifests `imageless pod run` accepts: a `v1` Pod with the fields one machine without a
 * kubelet can honour (annotations, runtimeClassName, containers and init containers with
 * command/args/env/workingDir/volumeMounts, Secret volumes). Everything else is refused with one
 * line naming the field, so a manifest never runs differently from what it says. Pure.
 */
import { parseAllDocuments } from "yaml";

/** An environment variable of a container, in manifest order (later ones may refer to earlier ones). */
export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

/** A mount of a Secret volume: always read-only, as the kubelet mounts them. */
export interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
}

export interface PodContainer {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly EnvVar[];
  readonly workingDir?: string;
  readonly volumeMounts: readonly VolumeMount[];
}

/** A volume backed by a Secret; `imageless pod run --secret NAME=DIR` says where its files are. */
export interface SecretVolume {
  readonly name: string;
  readonly secretName: string;
}

export interface PodManifest {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly runtimeClassName?: string;
  readonly initContainers: readonly PodContainer[];
  readonly containers: readonly PodContainer[];
  readonly volumes: readonly SecretVolume[];
}

export type ParseResult =
  | { readonly ok: true; readonly pod: PodManifest }
  | { readonly ok: false; readonly problems: readonly string[] };

/** A DNS-1123 label, what Kubernetes requires of pod, container and volume names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_HINT =
  "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63";

/** Fields a kubelet would act on that this local runner cannot; each gets its own reason. */
const UNSUPPORTED_SPEC: Readonly<Record<string, string>> = {
  hostNetwork: "pods always use the host's network here (no CNI); remove it or set true",
  hostname: "pods share the host's UTS namespace here, so no hostname can be set",
  restartPolicy: "imageless pod run never restarts containers; remove it or set Never",
};

/**
 * Parses and validates a Pod manifest. `source` names the file in every problem line.
 *
 * @example
 * const result = parsePodManifest(text, "examples/quotes.yaml");
 * if (!result.ok) for (const line of result.problems) console.error(line);
 */
export function parsePodManifest(text: string, source: string): ParseResult {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return { ok: false, problems: [`${source}: holds no YAML document`] };
  const yamlProblems = documents.flatMap((doc) =>
    doc.errors.map((error) => {
      const at = error.linePos?.[0];
      const where = at === undefined ? "" : `:${at.line}:${at.col}`;
      // The library appends " at line L, column C:" and a code frame; the location leads the line instead.
      const message = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:$/, "");
      return `${source}${where}: not valid YAML: ${message}`;
    }),
  );
  if (yamlProblems.length > 0) return { ok: false, problems: yamlProblems };
  if (documents.length !== 1) {
    return {
      ok: false,
      problems: [`${source}: holds ${documents.length} YAML documents; accepted is exactly one Pod per file`],
    };
  }
  const checker = new Checker(source);
  const pod = checker.pod(documents[0]?.toJS());
  return checker.problems.length === 0 && pod !== undefined
    ? { ok: true, pod }
    : { ok: false, problems: checker.problems };
}

type Json = Record<string, unknown>;

/** Walks the document, collecting one line per problem instead of stopping at the first. */
class Checker {
  readonly problems: string[] = [];
  constructor(private readonly source: string) {}

  private problem(path: string, text: string): void {
    this.problems.push(`${this.source}: ${path}: ${text}`);
  }

  /** The object at `path`, or undefined (with a problem) when it is something else. */
  private object(value: unknown, path: string): Json | undefined {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Json;
    this.problem(path, `must be a mapping, got ${describe(value)}`);
    return undefined;
  }

  /** Reports every key of `object` not in `known`, with the reason UNSUPPORTED gives or the list. */
  private onlyKeys(
    object: Json,
    path: string,
    known: readonly string[],
    reasons: Readonly<Record<string, string>> = {},
  ): void {
    for (const key of Object.keys(object)) {
      if (known.includes(key)) continue;
      const reason = reasons[key] ?? `not supported by imageless pod run (supported: ${known.join(", ")})`;
      this.problem(`${path}.${key}`, reason);
    }
  }

  private string(value: unknown, path: string): string | undefined {
    if (typeof value === "string") return value;
    this.problem(path, `must be a string, got ${describe(value)}`);
    return undefined;
  }

  private name(value: unknown, path: string): string | undefined {
    const name = this.string(value, path);
    if (name === undefined) return undefined;
    if (name.length > 63 || !DNS_LABEL.test(name)) {
      this.problem(path, `cannot use "${name}": names are ${DNS_LABEL_HINT}`);
      return undefined;
    }
    return name;
  }

  private stringList(value: unknown, path: string): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.problem(path, `must be a list of strings, got ${describe(value)}`);
      return [];
    }
    return value.flatMap((item, i) => {
      // YAML reads `- 3000` as a number; Kubernetes refuses it too, so say how to quote it.
      if (typeof item === "string") return [item];
      this.problem(`${path}[${i}]`, `must be a string, got ${describe(item)} (quote it)`);
      return [];
    });
  }

  private stringMap(value: unknown, path: string): Record<string, string> {
    if (value === undefined) return {};
    const object = this.object(value, path);
    if (object === undefined) return {};
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(object)) {
      if (typeof item === "string") out[key] = item;
      else this.problem(`${path}.${key}`, `must be a string, got ${describe(item)} (quote it)`);
    }
    return out;
  }

  private list(value: unknown, path: string): unknown[] {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    this.problem(path, `must be a list, got ${describe(value)}`);
    return [];
  }

  pod(document: unknown): PodManifest | undefined {
    const root = this.object(document, "(document)");
    if (root === undefined) return undefined;
    this.onlyKeys(root, "(document)", ["apiVersion", "kind", "metadata", "spec"]);
    if (root["apiVersion"] !== "v1")
      this.problem("apiVersion", `cannot use ${describe(root["apiVersion"])}: accepted is "v1"`);
    if (root["kind"] !== "Pod")
      this.problem("kind", `cannot use ${describe(root["kind"])}: accepted is "Pod"`);
    const metadata = this.object(root["metadata"] ?? null, "metadata") ?? {};
    this.onlyKeys(metadata, "metadata", ["name", "namespace", "labels", "annotations"]);
    const name = this.name(metadata["name"], "metadata.name");
    const namespace =
      metadata["namespace"] === undefined
        ? "default"
        : this.name(metadata["namespace"], "metadata.namespace");
    const labels = this.stringMap(metadata["labels"], "metadata.labels");
    const annotations = this.stringMap(metadata["annotations"], "metadata.annotations");
    const spec = this.object(root["spec"] ?? null, "spec") ?? {};
    // `hostNetwork: true` and `restartPolicy: Never` say what happens anyway, so they may stay.
    const harmless = [
      ...(spec["hostNetwork"] === true ? ["hostNetwork"] : []),
      ...(spec["restartPolicy"] === "Never" ? ["restartPolicy"] : []),
    ];
    this.onlyKeys(
      spec,
      "spec",
      [
        "runtimeClassName",
        "containers",
        "initContainers",
        "volumes",
        "terminationGracePeriodSeconds",
        ...harmless,
      ],
      UNSUPPORTED_SPEC,
    );
    const runtimeClassName =
      spec["runtimeClassName"] === undefined
        ? undefined
        : this.name(spec["runtimeClassName"], "spec.runtimeClassName");
    const volumes = this.list(spec["volumes"], "spec.volumes").flatMap((v, i) =>
      this.volume(v, `spec.volumes[${i}]`),
    );
    const volumeNames = new Set(volumes.map((v) => v.name));
    const initContainers = this.list(spec["initContainers"], "spec.initContainers").flatMap((c, i) =>
      this.container(c, `spec.initContainers[${i}]`, volumeNames),
    );
    const containers = this.list(spec["containers"], "spec.containers").flatMap((c, i) =>
      this.container(c, `spec.containers[${i}]`, volumeNames),
    );
    if (
      spec["containers"] === undefined ||
      (Array.isArray(spec["containers"]) && spec["containers"].length === 0)
    ) {
      this.problem("spec.containers", "must list at least one container");
    }
    const seen = new Set<string>();
    for (const c of [...initContainers, ...containers]) {
      if (seen.has(c.name))
        this.problem("spec", `container name "${c.name}" is used twice; names must be unique in a pod`);
      seen.add(c.name);
    }
    if (name === undefined || namespace === undefined) return undefined;
    return {
      name,
      namespace,
      labels,
      annotations,
      ...(runtimeClassName === undefined ? {} : { runtimeClassName }),
      initContainers,
      containers,
      volumes,
    };
  }

  private volume(value: unknown, path: string): SecretVolume[] {
    const volume = this.object(value, path);
    if (volume === undefined) return [];
    this.onlyKeys(volume, path, ["name", "secret"]);
    const name = this.name(volume["name"], `${path}.name`);
    if (volume["secret"] === undefined) {
      this.problem(path, "only Secret volumes are supported (`secret: {secretName: …}`)");
      return [];
    }
    const secret = this.object(volume["secret"], `${path}.secret`);
    if (secret === undefined || name === undefined) return [];
    this.onlyKeys(secret, `${path}.secret`, ["secretName"]);
    const secretName = this.name(secret["secretName"], `${path}.secret.secretName`);
    return secretName === undefined ? [] : [{ name, secretName }];
  }

  private container(value: unknown, path: string, volumeNames: ReadonlySet<string>): PodContainer[] {
    const c = this.object(value, path);
    if (c === undefined) return [];
    this.onlyKeys(c, path, [
      "name",
      "image",
      "imagePullPolicy",
      "command",
      "args",
      "env",
      "workingDir",
      "volumeMounts",
      "ports",
    ]);
    const name = this.name(c["name"], `${path}.name`);
    const image = this.string(c["image"], `${path}.image`);
    const pullPolicy = c["imagePullPolicy"];
    if (pullPolicy !== undefined && pullPolicy !== "IfNotPresent" && pullPolicy !== "Never") {
      this.problem(
        `${path}.imagePullPolicy`,
        `cannot use ${describe(pullPolicy)}: imageless pod run never pulls (accepted: IfNotPresent, Never)`,
      );
    }
    const command = this.stringList(c["command"], `${path}.command`);
    const args = this.stringList(c["args"], `${path}.args`);
    const env = this.list(c["env"], `${path}.env`).flatMap((e, i) => this.envVar(e, `${path}.env[${i}]`));
    let workingDir: string | undefined;
    if (c["workingDir"] !== undefined) {
      workingDir = this.string(c["workingDir"], `${path}.workingDir`);
      if (workingDir !== undefined && !workingDir.startsWith("/")) {
        this.problem(`${path}.workingDir`, `cannot use "${workingDir}": must be an absolute path`);
      }
    }
    for (const [i, port] of this.list(c["ports"], `${path}.ports`).entries()) {
      // Informational in Kubernetes too; on the host network the program's own port is what counts.
      const p = this.object(port, `${path}.ports[${i}]`);
      if (p !== undefined) this.onlyKeys(p, `${path}.ports[${i}]`, ["name", "containerPort", "protocol"]);
    }
    const volumeMounts = this.list(c["volumeMounts"], `${path}.volumeMounts`).flatMap((m, i) =>
      this.volumeMount(m, `${path}.volumeMounts[${i}]`, volumeNames),
    );
    if (name === undefined || image === undefined) return [];
    return [
      {
        name,
        image,
        command,
        args,
        env,
        ...(workingDir === undefined ? {} : { workingDir }),
        volumeMounts,
      },
    ];
  }

  private envVar(value: unknown, path: string): EnvVar[] {
    const e = this.object(value, path);
    if (e === undefined) return [];
    this.onlyKeys(e, path, ["name", "value"], {
      valueFrom: "not supported by imageless pod run: write the value, or mount a Secret volume",
    });
    const name = this.string(e["name"], `${path}.name`);
    const raw = e["value"] ?? "";
    const text = this.string(raw, `${path}.value`);
    return name === undefined || text === undefined ? [] : [{ name, value: text }];
  }

  private volumeMount(value: unknown, path: string, volumeNames: ReadonlySet<string>): VolumeMount[] {
    const m = this.object(value, path);
    if (m === undefined) return [];
    this.onlyKeys(m, path, ["name", "mountPath", "readOnly"]);
    const name = this.string(m["name"], `${path}.name`);
    const mountPath = this.string(m["mountPath"], `${path}.mountPath`);
    if (name !== undefined && !volumeNames.has(name)) {
      this.problem(`${path}.name`, `no volume "${name}" in spec.volumes`);
      return [];
    }
    if (mountPath !== undefined && !mountPath.startsWith("/")) {
      this.problem(`${path}.mountPath`, `cannot use "${mountPath}": must be an absolute path`);
      return [];
    }
    if (m["readOnly"] !== undefined && m["readOnly"] !== true) {
      this.problem(
        `${path}.readOnly`,
        `cannot use ${describe(m["readOnly"])}: Secret volumes are read-only (accepted: true)`,
      );
    }
    return name === undefined || mountPath === undefined ? [] : [{ name, mountPath }];
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${String(value)}`;
}
