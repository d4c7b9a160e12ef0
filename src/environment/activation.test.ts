import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ActivationInput, computeActivation } from "./activation.js";

const ENV = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-imageless-env";
const input: ActivationInput = {
  floxEnv: ENV,
  owner: "acme",
  name: "web",
  generation: 3,
  mode: "run",
  floxhubUrl: "https://hub.flox.dev",
  vars: {},
  envCache: "/var/cache/flox",
  disableMetrics: false,
};
const asMap = (env: readonly string[]): Map<string, string> =>
  new Map(env.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));

describe("computeActivation()", () => {
  it("puts $FLOX_ENV/bin first on the container's PATH and sets the FLOX_* variables", () => {
    const env = asMap(computeActivation(input, ["PATH=/usr/bin:/bin", "HOME=/root"], "/app").env);
    assert.equal(env.get("PATH"), `${ENV}/bin:/usr/bin:/bin`);
    assert.equal(env.get("HOME"), "/root");
    assert.equal(env.get("MANPATH"), `${ENV}/share/man:`);
    assert.equal(env.get("INFOPATH"), `${ENV}/share/info`);
    assert.equal(env.get("XDG_DATA_DIRS"), `${ENV}/share:/usr/local/share:/usr/share`);
    assert.equal(env.get("FLOX_ENV"), ENV);
    assert.equal(env.get("FLOX_ENV_CACHE"), "/var/cache/flox");
    assert.equal(env.get("FLOX_ENV_PROJECT"), "/app");
    assert.equal(env.get("FLOX_ENV_DESCRIPTION"), "acme/web");
    assert.equal(env.get("FLOX_ENV_DIRS"), ENV);
    assert.equal(env.get("FLOX_CONTAINERD"), "1");
    assert.equal(env.has("FLOX_DISABLE_METRICS"), false);
    assert.equal(env.has("CPATH"), false);
    assert.deepEqual(JSON.parse(env.get("_FLOX_ACTIVE_ENVIRONMENTS") ?? ""), [
      {
        environment: {
          type: "remote",
          owner: "acme",
          name: "web",
          floxhub_url: "https://hub.flox.dev",
          version: 1,
        },
        generation: "3",
        mode: "run",
      },
    ]);
  });

  it("uses containerd's default PATH when the container has none", () => {
    const env = asMap(computeActivation(input, [], "/").env);
    assert.equal(env.get("PATH"), `${ENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`);
  });

  it("expands [vars] in dependency order and lets them override the container's variables", () => {
    const vars = { GREETING: "${SALUTATION}, $WHO", SALUTATION: "Hello", WHO: "world", HOME: "/srv" };
    const activation = computeActivation({ ...input, vars }, ["HOME=/root"], "/");
    const env = asMap(activation.env);
    assert.equal(env.get("GREETING"), "Hello, world");
    assert.equal(env.get("HOME"), "/srv");
    assert.equal(activation.needsShell, false);
  });

  it("can reference activation variables such as $FLOX_ENV in [vars]", () => {
    const env = asMap(computeActivation({ ...input, vars: { DATA: "$FLOX_ENV/share/data" } }, [], "/").env);
    assert.equal(env.get("DATA"), `${ENV}/share/data`);
  });

  it("needs a shell only for a hook or shell-only [vars]", () => {
    assert.equal(computeActivation({ ...input, hook: "echo hi" }, [], "/").needsShell, true);
    assert.equal(computeActivation({ ...input, hook: "  " }, [], "/").needsShell, false);
    assert.equal(computeActivation({ ...input, vars: { NOW: "$(date)" } }, [], "/").needsShell, true);
    assert.equal(computeActivation({ ...input, vars: { X: "${Y:-default}" } }, [], "/").needsShell, true);
  });

  it("sets FLOX_DISABLE_METRICS=true when metrics are disabled", () => {
    const env = asMap(computeActivation({ ...input, disableMetrics: true }, [], "/").env);
    assert.equal(env.get("FLOX_DISABLE_METRICS"), "true");
  });

  it("adds development variables in dev mode", () => {
    const env = asMap(computeActivation({ ...input, mode: "dev" }, ["CPATH=/usr/include"], "/").env);
    assert.equal(env.get("CPATH"), `${ENV}/include:/usr/include`);
    assert.equal(env.get("LIBRARY_PATH"), `${ENV}/lib`);
    assert.equal(env.get("PKG_CONFIG_PATH"), `${ENV}/lib/pkgconfig:${ENV}/share/pkgconfig`);
    assert.equal(env.get("CMAKE_PREFIX_PATH"), ENV);
    assert.match(env.get("_FLOX_ACTIVE_ENVIRONMENTS") ?? "", /"mode":"dev"/);
  });

  it("leaves shell-only [vars], and the ones referring to them, to the activation script", () => {
    const vars = { NOW: "$(date)", MSG: "at $NOW", PLAIN: "$FLOX_ENV/x" };
    const activation = computeActivation({ ...input, vars }, ["MSG=from-image"], "/");
    const env = asMap(activation.env);
    assert.equal(env.has("NOW"), false);
    assert.equal(env.get("MSG"), "from-image", "the image's value stays until bash sets it");
    assert.equal(env.get("PLAIN"), `${ENV}/x`);
    assert.equal(activation.needsShell, true);
  });

  it("sets language variables in dev mode only where the environment has their directories", () => {
    const devLayout = {
      pythonSitePackages: ["lib/python3.11/site-packages", "lib/python3.12/site-packages"],
      jupyter: true,
      java: true,
      rustSrc: true,
    };
    const dev = asMap(computeActivation({ ...input, mode: "dev", devLayout }, ["PYTHONPATH=/p"], "/").env);
    assert.equal(
      dev.get("PYTHONPATH"),
      `${ENV}/lib/python3.11/site-packages:${ENV}/lib/python3.12/site-packages:/p`,
    );
    assert.equal(dev.get("JUPYTER_PATH"), `${ENV}/share/jupyter`);
    assert.equal(dev.get("JAVA_HOME"), ENV);
    assert.equal(dev.get("RUST_SRC_PATH"), `${ENV}/lib/rustlib/src/rust/library`);
    const none = { pythonSitePackages: [], jupyter: false, java: false, rustSrc: false };
    const bare = asMap(computeActivation({ ...input, mode: "dev", devLayout: none }, [], "/").env);
    for (const key of ["PYTHONPATH", "JUPYTER_PATH", "JAVA_HOME", "RUST_SRC_PATH"])
      assert.equal(bare.has(key), false);
    const run = asMap(computeActivation({ ...input, mode: "run", devLayout }, [], "/").env);
    for (const key of [
      "CPATH",
      "LIBRARY_PATH",
      "PKG_CONFIG_PATH",
      "ACLOCAL_PATH",
      "CMAKE_PREFIX_PATH",
      "PYTHONPATH",
    ]) {
      assert.equal(run.has(key), false, key);
    }
  });
});
