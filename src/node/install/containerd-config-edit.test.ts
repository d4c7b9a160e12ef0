import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parse } from "smol-toml";
import { containerdFixturesDir } from "../../../test/harness/repo-root.js";
import { ImagelessError } from "../../errors/imageless-error.js";
import {
  addFloxRuntime,
  configSchema,
  type FloxRuntime,
  floxRuntimeTable,
  hasFloxBlock,
  removeFloxRuntime,
  tableAt,
} from "./containerd-config-edit.js";
import {
  type ContainerdFacts,
  K3S_BASE_TEMPLATE,
  k3sTemplatePath,
  parseContainerdVersion,
  planContainerdEdit,
} from "./containerd-target.js";

const WRAPPER = "/opt/imageless/bin/imageless-runc";
const fixture = (name: string) => readFileSync(join(containerdFixturesDir(), name), "utf8");
const DEFAULT_1_6 = fixture("default-config-containerd-1.6.20.toml");
const DOCS_V2 = fixture("docs-full-config-v2-containerd-1.x.toml");
const DOCS_V3 = fixture("docs-full-config-v3-containerd-2.x.toml");

const plain = (
  text: string | undefined,
  version = "1.6.20",
  dropIns: { path: string; text: string | undefined }[] = [],
): ContainerdFacts => ({
  flavour: "containerd",
  version,
  config: { path: "/etc/containerd/config.toml", text },
  dropIns,
});

const BEGIN =
  "# imageless: the flox runtime handler (added by `imageless node install`; `imageless node uninstall` removes it)";
const END = "# imageless: end of the flox runtime handler";

/** The block as a reader of the file sees it, written out by hand. */
function expectedBlock(plugin: string, options: readonly string[]): string {
  return [
    BEGIN,
    `[plugins."${plugin}".containerd.runtimes.flox]`,
    '  runtime_type = "io.containerd.runc.v2"',
    '  pod_annotations = ["flox.dev/*"]',
    '  container_annotations = ["flox.dev/*"]',
    "",
    `  [plugins."${plugin}".containerd.runtimes.flox.options]`,
    `    BinaryName = "${WRAPPER}"`,
    ...options.map((line) => `    ${line}`),
    END,
    "",
  ].join("\n");
}

/** The options containerd 1.6.20's default runc has, as the flox runtime inherits them (sorted, no BinaryName). */
const RUNC_1_6_OPTIONS = [
  'CriuImagePath = ""',
  'CriuPath = ""',
  'CriuWorkPath = ""',
  "IoGid = 0",
  "IoUid = 0",
  "NoNewKeyring = false",
  "NoPivotRoot = false",
  'Root = ""',
  'ShimCgroup = ""',
  "SystemdCgroup = false",
];

describe("planContainerdEdit() on real containerd configs", () => {
  const cases: { name: string; facts: ContainerdFacts; expected: string; path: string; schema: 2 | 3 }[] = [
    {
      name: "containerd 1.6.20's default config (version 2)",
      facts: plain(DEFAULT_1_6),
      expected: `${DEFAULT_1_6}\n${expectedBlock("io.containerd.grpc.v1.cri", RUNC_1_6_OPTIONS)}`,
      path: "/etc/containerd/config.toml",
      schema: 2,
    },
    {
      name: "the documented full 1.x config (version 2)",
      facts: plain(DOCS_V2, "1.7.2"),
      expected: `${DOCS_V2}\n${expectedBlock("io.containerd.grpc.v1.cri", ["NoPivotRoot = false", "NoNewKeyring = false", 'ShimCgroup = ""', "IoUid = 0", "IoGid = 0", 'Root = ""', "SystemdCgroup = false", 'CriuImagePath = ""', 'CriuWorkPath = ""'].sort(byKey))}`,
      path: "/etc/containerd/config.toml",
      schema: 2,
    },
    {
      name: "the documented full 2.x config (version 3)",
      facts: plain(DOCS_V3, "2.0.0"),
      expected: `${DOCS_V3}\n${expectedBlock("io.containerd.cri.v1.runtime", ['CriuImagePath = ""', 'CriuWorkPath = ""', "IoGid = 0", "IoUid = 0", "NoNewKeyring = false", 'Root = ""', 'ShimCgroup = ""'])}`,
      path: "/etc/containerd/config.toml",
      schema: 3,
    },
  ];
  for (const c of cases) {
    it(`adds the flox runtime to ${c.name}, keeping every other byte`, () => {
      const edit = planContainerdEdit(c.facts, WRAPPER);
      assert.equal(edit.path, c.path);
      assert.equal(edit.schema, c.schema);
      assert.equal(edit.after, c.expected);
    });
    it(`adds a runtime containerd reads as intended to ${c.name}, and nothing else`, () => {
      const edit = planContainerdEdit(c.facts, WRAPPER);
      const before = parse(edit.before ?? "");
      const after = parse(edit.after);
      const flox = floxRuntimeTable(after, c.schema);
      assert.equal(flox?.["runtime_type"], "io.containerd.runc.v2");
      assert.deepEqual(flox?.["pod_annotations"], ["flox.dev/*"]);
      assert.deepEqual(flox?.["container_annotations"], ["flox.dev/*"]);
      assert.equal(tableAt(flox ?? {}, ["options"])?.["BinaryName"], WRAPPER);
      const plugin = c.schema === 2 ? "io.containerd.grpc.v1.cri" : "io.containerd.cri.v1.runtime";
      const runtimes = tableAt(after, ["plugins", plugin, "containerd", "runtimes"]) as Record<
        string,
        unknown
      >;
      delete runtimes["flox"];
      assert.deepEqual(after, before);
    });
    it(`gives ${c.name} back byte for byte on uninstall, and a second install changes nothing`, () => {
      const edit = planContainerdEdit(c.facts, WRAPPER);
      assert.equal(
        removeFloxRuntime(edit.after),
        c.facts.flavour === "containerd" ? c.facts.config.text : undefined,
      );
      const again = planContainerdEdit(plain(edit.after, c.facts.version), WRAPPER);
      assert.equal(again.after, edit.after);
    });
  }

  it("inherits the default runtime's cgroup driver (SystemdCgroup = true)", () => {
    const text = DEFAULT_1_6.replace("SystemdCgroup = false", "SystemdCgroup = true");
    const edit = planContainerdEdit(plain(text), WRAPPER);
    assert.equal(
      edit.after,
      `${text}\n${expectedBlock(
        "io.containerd.grpc.v1.cri",
        RUNC_1_6_OPTIONS.map((l) => l.replace("SystemdCgroup = false", "SystemdCgroup = true")),
      )}`,
    );
  });

  it("follows default_runtime_name, without copying that runtime's BinaryName", () => {
    const text = [
      "version = 2",
      '[plugins."io.containerd.grpc.v1.cri".containerd]',
      '  default_runtime_name = "crun"',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]',
      '  runtime_type = "io.containerd.runc.v2"',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]',
      '  BinaryName = "/usr/bin/crun"',
      "  SystemdCgroup = true",
      "",
    ].join("\n");
    assert.equal(
      planContainerdEdit(plain(text), WRAPPER).after,
      `${text}\n${expectedBlock("io.containerd.grpc.v1.cri", ["SystemdCgroup = true"])}`,
    );
  });

  it("puts the runtime into the imported drop-in that replaces the CRI section (nvidia-container-toolkit)", () => {
    const main = DEFAULT_1_6.replace("imports = []", 'imports = ["/etc/containerd/conf.d/*.toml"]');
    const nvidia = [
      "version = 2",
      "",
      '[plugins."io.containerd.grpc.v1.cri".containerd]',
      '  default_runtime_name = "nvidia"',
      "",
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]',
      '  runtime_type = "io.containerd.runc.v2"',
      "",
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]',
      '  BinaryName = "/usr/bin/nvidia-container-runtime"',
      "  SystemdCgroup = true",
      "",
    ].join("\n");
    const edit = planContainerdEdit(
      plain(main, "1.7.2", [
        {
          path: "/etc/containerd/conf.d/10-registry.toml",
          text: 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n',
        },
        { path: "/etc/containerd/conf.d/99-nvidia.toml", text: nvidia },
        { path: "/etc/containerd/conf.d/50-other.toml", text: 'version = 2\n[metrics]\n  address = ""\n' },
      ]),
      WRAPPER,
    );
    assert.equal(edit.path, "/etc/containerd/conf.d/99-nvidia.toml");
    assert.equal(
      edit.after,
      `${nvidia}\n${expectedBlock("io.containerd.grpc.v1.cri", ["SystemdCgroup = true"])}`,
    );
  });

  it("creates a missing config as `version = N` plus the runtime, by containerd's major version", () => {
    assert.equal(
      planContainerdEdit(plain(undefined, "1.7.2"), WRAPPER).after,
      `version = 2\n\n${expectedBlock("io.containerd.grpc.v1.cri", [])}`,
    );
    assert.equal(
      planContainerdEdit(plain(undefined, "2.1.4"), WRAPPER).after,
      `version = 3\n\n${expectedBlock("io.containerd.cri.v1.runtime", [])}`,
    );
  });

  it("adds the runtime to k3s's template, creating it from the base template when absent", () => {
    const rendered = { path: "/var/lib/rancher/k3s/agent/etc/containerd/config.toml", text: DEFAULT_1_6 };
    const template = { path: "/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl", text: undefined };
    const created = planContainerdEdit({ flavour: "k3s", version: "1.7.11", rendered, template }, WRAPPER);
    assert.equal(created.path, template.path);
    assert.equal(
      created.after,
      `${K3S_BASE_TEMPLATE}\n${expectedBlock("io.containerd.grpc.v1.cri", RUNC_1_6_OPTIONS)}`,
    );
    const own = `${K3S_BASE_TEMPLATE}{{ if .NodeConfig.AgentConfig.Snapshotter }}# snapshotter {{ .NodeConfig.AgentConfig.Snapshotter }}{{ end }}\n`;
    const appended = planContainerdEdit(
      { flavour: "k3s", version: "1.7.11", rendered, template: { ...template, text: own } },
      WRAPPER,
    );
    assert.equal(appended.after, `${own}\n${expectedBlock("io.containerd.grpc.v1.cri", RUNC_1_6_OPTIONS)}`);
    assert.equal(removeFloxRuntime(appended.after), own);
  });

  it("k3s with containerd 2.x: the version 3 template gets the version 3 table", () => {
    const rendered = { path: "/var/lib/rancher/k3s/agent/etc/containerd/config.toml", text: DOCS_V3 };
    const template = { path: k3sTemplatePath(rendered.path, 3), text: undefined };
    assert.equal(template.path, "/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl");
    const edit = planContainerdEdit({ flavour: "k3s", version: "2.0.5", rendered, template }, WRAPPER);
    assert.equal(edit.schema, 3);
    assert.ok(edit.after.includes('\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.flox]\n'));
  });

  it("refuses version 1 configs and a flox runtime imageless did not write, naming the file", () => {
    assert.throws(
      () => planContainerdEdit(plain('[plugins.cri]\n  sandbox_image = "pause"\n', "1.6.20"), WRAPPER),
      (error: unknown) =>
        error instanceof ImagelessError &&
        error.kind === "unsupported" &&
        /version = \(none, i\.e\. 1\) is not supported/.test(error.message),
    );
    const foreign = `${DEFAULT_1_6}\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.flox]\n  runtime_type = "io.containerd.runc.v2"\n  runtime_path = "/usr/local/bin/containerd-shim-flox-v2"\n`;
    assert.throws(
      () => planContainerdEdit(plain(foreign), WRAPPER),
      (error: unknown) =>
        error instanceof ImagelessError &&
        error.message ===
          `containerd config /etc/containerd/config.toml: it already defines a "flox" runtime that imageless did not write: remove that table (or pass --containerd-config for another file) and run install again`,
    );
  });
});

describe("addFloxRuntime() / removeFloxRuntime() properties", () => {
  const runtime = (binaryName: string, systemd: boolean): FloxRuntime => ({
    schema: 2,
    binaryName,
    inheritedOptions: { SystemdCgroup: systemd },
  });
  // Text made of lines, including empty ones, CRLF and no final newline; never our marker lines.
  const text = fc
    .array(
      fc.oneof(
        fc.constant(""),
        fc.constant("# comment"),
        fc.constant("key = 1\r"),
        fc.string({ maxLength: 30 }),
      ),
      { maxLength: 12 },
    )
    .map((lines) => lines.join("\n"))
    .filter((t) => !t.includes("# imageless:") && !/runtimes\s*\.\s*["']?flox/.test(t));
  const paths = fc.constantFrom(
    "/opt/imageless/bin/imageless-runc",
    "/usr/local/x/imageless-runc",
    'C:\\odd "path"',
  );

  it("uninstall after install is the identity", () => {
    fc.assert(
      fc.property(
        text,
        paths,
        fc.boolean(),
        (t, p, s) => removeFloxRuntime(addFloxRuntime(t, runtime(p, s), "f")) === t,
      ),
    );
  });
  it("install is idempotent, and a newer install replaces the block in place", () => {
    fc.assert(
      fc.property(text, paths, paths, fc.boolean(), (t, p1, p2, s) => {
        const once = addFloxRuntime(t, runtime(p1, s), "f");
        assert.equal(addFloxRuntime(once, runtime(p1, s), "f"), once);
        assert.equal(addFloxRuntime(once, runtime(p2, !s), "f"), addFloxRuntime(t, runtime(p2, !s), "f"));
        assert.ok(hasFloxBlock(once));
      }),
    );
  });
  it("uninstall of text without the block changes nothing", () => {
    fc.assert(fc.property(text, (t) => removeFloxRuntime(t) === t));
  });
});

describe("parseContainerdVersion()", () => {
  const cases: [string, string | undefined][] = [
    ["containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", "1.6.20"],
    ["containerd github.com/containerd/containerd v1.7.2 0cae528dd6cb557f7201036e9f43420650207b58", "1.7.2"],
    ["containerd containerd.io 1.6.21 3dce8eb055cbb6872793272b4f20ed16117344f8", "1.6.21"],
    ["containerd github.com/k3s-io/containerd v1.7.11-k3s2", "1.7.11"],
    [
      "containerd github.com/containerd/containerd/v2 v2.0.0 207ad711eabd375a01713109a8a197d197ff6542",
      "2.0.0",
    ],
    ["command not found", undefined],
  ];
  for (const [output, expected] of cases) {
    it(`reads ${JSON.stringify(expected)} from ${JSON.stringify(output.slice(0, 50))}`, () => {
      assert.equal(parseContainerdVersion(output), expected);
    });
  }
});

describe("configSchema()", () => {
  it("takes the file's version, else containerd's default for an empty file or a 2.x containerd", () => {
    assert.equal(configSchema({ version: 2 }, 2, "f"), 2);
    assert.equal(configSchema({ version: 3 }, undefined, "f"), 3);
    assert.equal(configSchema({}, 1, "f"), 2);
    assert.equal(configSchema({}, 2, "f"), 3);
    assert.equal(configSchema({ root: "/x" }, 2, "f"), 3);
    assert.throws(() => configSchema({ root: "/x" }, 1, "f"), /version = \(none, i\.e\. 1\)/);
    assert.throws(() => configSchema({ version: 1 }, 1, "f"), /version = 1 is not supported/);
  });
});

function byKey(a: string, b: string): number {
  return a.localeCompare(b);
}
