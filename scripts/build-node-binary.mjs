#!/usr/bin/env node
// Builds dist/node-binary/imageless: one executable holding Node.js and every Node side of imageless
// (the CLI, the wrapper's create/exec/delete work, the node agent, the telemetry sender), so a node
// needs no Node.js install. The route (docs/architecture.md, "What a node needs"):
//   1. esbuild bundles src/main/imageless.ts and what it imports into one CommonJS file, because
//      Node 20's single executable applications run exactly one CommonJS script;
//   2. `node --experimental-sea-config` turns it into a blob (with V8's code cache, for start-up);
//   3. postject injects the blob into a copy of the `node` that runs this script (stripped of its
//      symbol tables when `strip` is installed).
// A second run with the same inputs (sources, lock file, this script, Node's version) does nothing,
// so tests and scripts/setup.sh can call it freely.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT_DIR = join(REPO, "dist", "node-binary");
const EXECUTABLE = join(OUT_DIR, "imageless");
const STAMP = join(OUT_DIR, "imageless.inputs");
// The fuse Node's binary carries for postject (documented in Node's single-executable-applications.md).
const SENTINEL_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** Every file whose change changes the executable, in a stable order. */
function inputFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(join(REPO, "src"));
  return [...files, join(REPO, "package-lock.json"), fileURLToPath(import.meta.url)];
}

function inputsDigest() {
  const hash = createHash("sha256").update(`${process.version} ${process.arch}\n`);
  for (const file of inputFiles()) hash.update(`${relative(REPO, file)}\n`).update(readFileSync(file));
  return hash.digest("hex");
}

function upToDate(digest) {
  try {
    return readFileSync(STAMP, "utf8") === digest && statSync(EXECUTABLE).size > 0;
  } catch {
    return false;
  }
}

/**
 * better-sqlite3 is a native addon, which the executable cannot load (its `require` knows only Node's
 * built-in modules, and warns for anything else): importing it throws Node's own "cannot find module"
 * error instead, which the commands that open the hub's database turn into one line (src/cli/hub-parts.ts).
 */
function withoutNativeAddon(name) {
  const filter = new RegExp(`^${name}$`);
  return {
    name: `without-${name}`,
    setup(build) {
      build.onResolve({ filter }, () => ({ path: name, namespace: "native-addon" }));
      build.onLoad({ filter, namespace: "native-addon" }, () => ({
        contents: `throw Object.assign(new Error("Cannot find module '${name}': a native addon, not in the single executable"), { code: "MODULE_NOT_FOUND" });`,
        loader: "js",
      }));
    },
  };
}

/**
 * Runs postject without its ELF parser's "Can't find string offset for section name '.note…'" lines:
 * it prints them for every Linux node binary and the result runs the same; other warnings still show.
 */
async function quietly(work) {
  const warn = console.warn;
  console.warn = (...args) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    return await work();
  } finally {
    console.warn = warn;
  }
}

/**
 * Copies the running `node` to `target`, without its symbol tables when binutils' `strip` is there:
 * Node's Linux builds ship them (99 MB; 86 MB stripped), and nothing at run time reads them.
 */
function copyNode(target) {
  try {
    execFileSync("strip", ["-o", target, process.execPath], { stdio: "pipe" });
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
    copyFileSync(process.execPath, target);
  }
}

async function build() {
  const { build: bundle } = await import("esbuild");
  const { inject } = await import("postject");
  const script = join(OUT_DIR, "imageless.cjs");
  await bundle({
    entryPoints: [join(REPO, "src", "main", "imageless.ts")],
    outfile: script,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    // pg-native is pg's optional native driver, never used here.
    external: ["pg-native"],
    plugins: [withoutNativeAddon("better-sqlite3")],
    // CommonJS has no import.meta; the modules that locate files from it ask src/program/layout.ts first,
    // which knows the executable by process.execPath. Defined so their module-level URLs still parse.
    define: { "import.meta.url": "__imageless_bundle_url" },
    banner: { js: 'const __imageless_bundle_url = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: "warning",
  });
  const blob = join(OUT_DIR, "imageless.blob");
  const config = join(OUT_DIR, "sea-config.json");
  writeFileSync(
    config,
    JSON.stringify({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      // Data files the bundle cannot hold as code, read with node:sea's getAsset().
      assets: { "runtime-v1.proto": join(REPO, "src", "cri", "runtime-v1.proto") },
    }),
  );
  execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: "pipe" });
  // Written under a temporary name and renamed: a test or node using the old executable never sees half a file.
  const temp = `${EXECUTABLE}.${process.pid}.tmp`;
  copyNode(temp);
  chmodSync(temp, 0o755);
  await quietly(() => inject(temp, "NODE_SEA_BLOB", readFileSync(blob), { sentinelFuse: SENTINEL_FUSE }));
  renameSync(temp, EXECUTABLE);
  rmSync(blob, { force: true });
}

const started = Date.now();
mkdirSync(OUT_DIR, { recursive: true });
const digest = inputsDigest();
if (upToDate(digest) && !process.argv.includes("--force")) {
  process.stderr.write(`build-node-binary: ${relative(REPO, EXECUTABLE)} is up to date\n`);
} else {
  rmSync(STAMP, { force: true });
  await build();
  writeFileSync(STAMP, digest);
  process.stderr.write(`build-node-binary: built ${relative(REPO, EXECUTABLE)} in ${Date.now() - started} ms\n`);
}
