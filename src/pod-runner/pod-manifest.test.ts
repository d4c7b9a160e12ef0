import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePodManifest } from "./pod-manifest.js";

const QUOTES = `apiVersion: v1
kind: Pod
metadata:
  name: quotes
  labels: { app: quotes }
  annotations:
    flox.dev/environment: "demo/quotes:1"
spec:
  runtimeClassName: flox
  hostNetwork: true
  volumes:
    - name: token
      secret: { secretName: floxhub-token }
  initContainers:
    - name: wait
      image: localhost/imageless/empty:1.0.0
      command: ["sh", "-c", "true"]
  containers:
    - name: app
      image: localhost/imageless/empty:1.0.0
      imagePullPolicy: Never
      command: ["quotes-server"]
      args: ["--port", "3000"]
      workingDir: /tmp
      env:
        - name: REDIS_PORT
          value: "6379"
        - name: EMPTY
      ports: [{ containerPort: 3000 }]
      volumeMounts:
        - name: token
          mountPath: /var/run/secrets/flox.dev
`;

describe("parsePodManifest", () => {
  it("reads every supported field of a Pod", () => {
    assert.deepEqual(parsePodManifest(QUOTES, "quotes.yaml"), {
      ok: true,
      pod: {
        name: "quotes",
        namespace: "default",
        labels: { app: "quotes" },
        annotations: { "flox.dev/environment": "demo/quotes:1" },
        runtimeClassName: "flox",
        initContainers: [
          {
            name: "wait",
            image: "localhost/imageless/empty:1.0.0",
            command: ["sh", "-c", "true"],
            args: [],
            env: [],
            volumeMounts: [],
          },
        ],
        containers: [
          {
            name: "app",
            image: "localhost/imageless/empty:1.0.0",
            command: ["quotes-server"],
            args: ["--port", "3000"],
            env: [
              { name: "REDIS_PORT", value: "6379" },
              { name: "EMPTY", value: "" },
            ],
            workingDir: "/tmp",
            volumeMounts: [{ name: "token", mountPath: "/var/run/secrets/flox.dev" }],
          },
        ],
        volumes: [{ name: "token", secretName: "floxhub-token" }],
      },
    });
  });

  const minimal = (spec: string, metadata = "  name: p") =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n${metadata}\nspec:\n${spec}\n`;
  const app = "  containers:\n    - name: app\n      image: x\n";

  const refused: [string, string, string[]][] = [
    [
      "not YAML",
      "a: [1,\n",
      [
        "f.yaml:2:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    ],
    [
      "two documents",
      `${minimal(app)}---\n${minimal(app)}`,
      ["f.yaml: holds 2 YAML documents; accepted is exactly one Pod per file"],
    ],
    [
      "another kind",
      minimal(app).replace("kind: Pod", "kind: Deployment").replace("apiVersion: v1", "apiVersion: apps/v1"),
      [
        'f.yaml: apiVersion: cannot use "apps/v1": accepted is "v1"',
        'f.yaml: kind: cannot use "Deployment": accepted is "Pod"',
      ],
    ],
    [
      "a bad pod name",
      minimal(app, "  name: My_Pod"),
      [
        "f.yaml: metadata.name: cannot use \"My_Pod\": names are lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63",
      ],
    ],
    [
      "no containers",
      minimal("  runtimeClassName: flox"),
      ["f.yaml: spec.containers: must list at least one container"],
    ],
    [
      "an unsupported pod field",
      minimal(`${app}  nodeSelector: { a: b }\n  restartPolicy: Always\n  hostNetwork: false`),
      [
        "f.yaml: spec.nodeSelector: not supported by imageless pod run (supported: runtimeClassName, containers, initContainers, volumes, terminationGracePeriodSeconds)",
        "f.yaml: spec.restartPolicy: imageless pod run never restarts containers; remove it or set Never",
        "f.yaml: spec.hostNetwork: pods always use the host's network here (no CNI); remove it or set true",
      ],
    ],
    [
      "unsupported container fields and values",
      minimal(
        "  containers:\n    - name: app\n      image: x\n      imagePullPolicy: Always\n      command: [echo, 3]\n      resources: {}\n      workingDir: tmp\n      env: [{ name: A, valueFrom: {} }]",
      ),
      [
        "f.yaml: spec.containers[0].resources: not supported by imageless pod run (supported: name, image, imagePullPolicy, command, args, env, workingDir, volumeMounts, ports)",
        'f.yaml: spec.containers[0].imagePullPolicy: cannot use "Always": imageless pod run never pulls (accepted: IfNotPresent, Never)',
        "f.yaml: spec.containers[0].command[1]: must be a string, got number 3 (quote it)",
        "f.yaml: spec.containers[0].env[0].valueFrom: not supported by imageless pod run: write the value, or mount a Secret volume",
        'f.yaml: spec.containers[0].workingDir: cannot use "tmp": must be an absolute path',
      ],
    ],
    [
      "a volume that is not a Secret and a mount of no volume",
      minimal(
        "  volumes: [{ name: data, emptyDir: {} }]\n  containers:\n    - name: app\n      image: x\n      volumeMounts: [{ name: data, mountPath: /data }]",
      ),
      [
        "f.yaml: spec.volumes[0].emptyDir: not supported by imageless pod run (supported: name, secret)",
        "f.yaml: spec.volumes[0]: only Secret volumes are supported (`secret: {secretName: …}`)",
        'f.yaml: spec.containers[0].volumeMounts[0].name: no volume "data" in spec.volumes',
      ],
    ],
    [
      "two containers with one name",
      minimal("  initContainers: [{ name: app, image: x }]\n  containers: [{ name: app, image: x }]"),
      ['f.yaml: spec: container name "app" is used twice; names must be unique in a pod'],
    ],
    [
      "an annotation that is not a string",
      minimal(app, "  name: p\n  annotations: { flox.dev/nix-mutable: true }"),
      ["f.yaml: metadata.annotations.flox.dev/nix-mutable: must be a string, got boolean true (quote it)"],
    ],
  ];
  for (const [what, text, problems] of refused) {
    it(`refuses ${what} with one line per problem`, () => {
      assert.deepEqual(parsePodManifest(text, "f.yaml"), { ok: false, problems });
    });
  }
});
