import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import type { StorePath } from "../nix/store-path.js";
import { configStoreFile, environmentDefaults, locateDefaults } from "./activation-defaults.js";

const sp = (name: string): StorePath => `/nix/store/0123456789abcdfghijklmnpqrsvwxyz-${name}` as StorePath;
const CA = "etc/ssl/certs/ca-bundle.crt";
const LOCALES = "lib/locale/locale-archive";

describe("environmentDefaults()", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "imageless-defaults-"));
    await mkdir(join(root, sp("cacert"), "etc/ssl/certs"), { recursive: true });
    await writeFile(join(root, sp("cacert"), CA), "bundle");
    await mkdir(join(root, sp("glibc-locales"), "lib/locale"), { recursive: true });
    await writeFile(join(root, sp("glibc-locales"), LOCALES), "archive");
    // with-ca links the bundle like buildenv; bare has nothing of its own.
    await mkdir(join(root, sp("with-ca"), "etc/ssl/certs"), { recursive: true });
    await symlink(join(sp("cacert"), CA), join(root, sp("with-ca"), CA));
    await mkdir(join(root, sp("bare")), { recursive: true });
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("environmentDefaults() takes the environment's own bundle, then a closure package's file", async () => {
    const closure = async () => [sp("with-ca"), sp("cacert"), sp("glibc-locales")];
    assert.deepEqual(await environmentDefaults(sp("with-ca"), { storeRoot: root, closure }), {
      caBundle: `${sp("with-ca")}/${CA}`,
      localeArchive: `${sp("glibc-locales")}/${LOCALES}`,
    });
  });
  it("environmentDefaults() finds nothing without such packages", async () => {
    const closure = async () => [sp("bare")];
    assert.deepEqual(await environmentDefaults(sp("bare"), { storeRoot: root, closure }), {});
  });
});

describe("locateDefaults()", () => {
  const realised: StorePath[][] = [];
  const deps = (cacert: string, locales = "") => ({
    configCacert: cacert,
    configLocales: locales,
    realise: async (paths: readonly StorePath[]) => realised.push([...paths]),
  });
  it("locateDefaults() keeps what the environment brings and realises nothing", async () => {
    const own = { caBundle: "/nix/store/x/ca", localeArchive: "/nix/store/y/l" };
    assert.deepEqual(await locateDefaults(own, deps(sp("cacert"), sp("glibc-locales"))), {
      defaults: own,
      configPaths: {},
    });
    assert.deepEqual(realised, []);
  });
  it("locateDefaults() falls back to the node config, realising it and naming it for a GC root", async () => {
    const located = await locateDefaults({}, deps(sp("cacert")));
    assert.deepEqual(located, {
      defaults: { caBundle: `${sp("cacert")}/${CA}` },
      configPaths: { cacert: sp("cacert") },
    });
    assert.deepEqual(realised, [[sp("cacert")]]);
  });
});

describe("configStoreFile()", () => {
  it("configStoreFile() accepts a store path or a file inside one", () => {
    assert.deepEqual(configStoreFile(`${sp("cacert")}/`, CA, "cacert"), {
      storePath: sp("cacert"),
      file: `${sp("cacert")}/${CA}`,
    });
    assert.deepEqual(configStoreFile(`${sp("cacert")}/my.pem`, CA, "cacert"), {
      storePath: sp("cacert"),
      file: `${sp("cacert")}/my.pem`,
    });
  });
  it("configStoreFile() refuses a path outside the store, naming the key", () => {
    assert.throws(
      () => configStoreFile("/etc/ssl/ca.pem", CA, "cacert"),
      (e: unknown) =>
        e instanceof ImagelessError &&
        e.kind === "invalid-input" &&
        e.message ===
          'config [runtime] cacert: cannot use "/etc/ssl/ca.pem": accepted value is a store path like /nix/store/<hash>-<name> (or a file inside one)',
    );
  });
});
