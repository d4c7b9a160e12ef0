import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "smol-toml";
import { containerdPaths, renderContainerdConfig } from "./containerd-config.js";

function table(value: unknown, key: string): Record<string, unknown> {
  assert.ok(typeof value === "object" && value !== null && key in value, `has [${key}]`);
  const inner: unknown = new Map(Object.entries(value)).get(key);
  assert.ok(typeof inner === "object" && inner !== null && !Array.isArray(inner), `[${key}] is a table`);
  return Object.fromEntries(Object.entries(inner));
}

test("renderContainerdConfig() keeps every socket and state path inside the dir and adds handlers", () => {
  const paths = containerdPaths("/tmp/x");
  const config = parse(renderContainerdConfig(paths, { flox: { binaryName: "/opt/imageless-runc" } }));
  assert.equal(config["version"], 2);
  assert.equal(config["root"], "/tmp/x/root");
  assert.equal(config["state"], "/tmp/x/state");
  assert.equal(table(config, "grpc")["address"], "/tmp/x/containerd.sock");
  assert.equal(table(config, "ttrpc")["address"], "/tmp/x/containerd.sock.ttrpc");
  const cri = table(table(config, "plugins"), "io.containerd.grpc.v1.cri");
  assert.equal(cri["restrict_oom_score_adj"], true);
  assert.equal(cri["sandbox_image"], "localhost/pause:test");
  assert.equal(cri["stream_server_port"], "0");
  assert.equal(table(cri, "cni")["conf_dir"], "/tmp/x/cni/conf");
  const runtimes = table(table(cri, "containerd"), "runtimes");
  const flox = table(runtimes, "flox");
  assert.equal(flox["runtime_type"], "io.containerd.runc.v2");
  assert.deepEqual(flox["pod_annotations"], ["flox.dev/*"]);
  assert.deepEqual(flox["container_annotations"], ["flox.dev/*"]);
  assert.deepEqual(table(flox, "options"), { BinaryName: "/opt/imageless-runc", Root: "/tmp/x/runc" });
  assert.deepEqual(table(table(runtimes, "runc"), "options"), { Root: "/tmp/x/runc" });
});
