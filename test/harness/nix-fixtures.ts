import { chmod, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { importHostPrograms } from "../../src/nix/import-host-programs.js";
import { type NixStore, storeArgs } from "../../src/nix/nix-store.js";
import { runNix } from "../../src/nix/run-nix.js";
import { isStorePath, type StorePath } from "../../src/nix/store-path.js";
import { removeTree } from "./temp.js";

/** The fixture packages; `unsigned` is copied to the cache without a signature. */
export type FixtureName =
  | "busybox"
  | "coreutils"
  | "hello"
  | "hello-other"
  | "greeting"
  | "hello2"
  | "unsigned"
  | "bash"
  | "bash-libs"
  | "libgreet"
  | "libgreet-dev"
  | "cacert"
  | "tls-check"
  | "python3";

/** Real store paths built offline, and a signed `file://` binary cache holding them. */
export interface Fixtures {
  cacheDir: string;
  /** `file://<cacheDir>` */
  cacheUrl: string;
  /** `imageless-test-1:<base64>`, the key every package except `unsigned` is signed with. */
  publicKey: string;
  secretKeyFile: string;
  /** The chroot store the packages were built in (already holds them all). */
  buildStore: NixStore;
  packages: Record<FixtureName, StorePath>;
}

const BUSYBOX = "/bin/busybox";
// Debian's bash, made to run with only /nix mounted (see addBash).
const HOST_BASH = "/bin/bash";
// Debian's CA bundle, stored as nixpkgs' cacert lays it out (etc/ssl/certs/ca-bundle.crt).
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const KEY_NAME = "imageless-test-1";

// Each derivation uses the static busybox as builder, so its output references busybox and Nix
// records that: closures and GC behave as with real packages.
const PACKAGES_NIX = `{ busyboxPath, bashPath, bashLibsPath }:
let
  busybox = builtins.storePath busyboxPath;
  bashSrc = builtins.storePath bashPath;
  bashLibs = builtins.storePath bashLibsPath;
  bb = "\${busybox}/bin/busybox";
  make = name: script: derivation {
    inherit name;
    system = "x86_64-linux";
    builder = bb;
    args = [ "sh" "-c" "set -e; \${script}" ];
  };
  script = file: text: ''
    printf '#!%s sh\\n%s\\n' \${bb} '\${text}' > \${file}
    \${bb} chmod 755 \${file}
  '';
  # Propagated by libgreet (dev mode links it, run mode does not).
  greeting = make "greeting-1.0" ''
    \${bb} mkdir -p $out/bin
    \${script "$out/bin/greet" "echo \\"\\\${1:-greetings}\\""}
  '';
in {
  inherit greeting;
  coreutils = make "coreutils" ''
    \${bb} mkdir -p $out/bin
    for tool in env cat ls sh echo sleep id touch mkdir printenv true false; do
      \${bb} ln -s \${bb} $out/bin/$tool
    done
  '';
  hello = make "hello-1.0" ''
    \${bb} mkdir -p $out/bin $out/share/man/man1
    \${script "$out/bin/hello" "echo \\"Hello, world!\\""}
    echo '.TH HELLO 1' > $out/share/man/man1/hello.1
  '';
  hello-other = make "hello-other-1.0" ''
    \${bb} mkdir -p $out/bin
    \${script "$out/bin/hello" "echo \\"Hello from hello-other\\""}
  '';
  hello2 = make "hello-2.0" ''
    \${bb} mkdir -p $out/bin $out/share/man/man1
    \${script "$out/bin/hello" "echo \\"Hello, world! (v2)\\""}
    echo '.TH HELLO 1' > $out/share/man/man1/hello.1
  '';
  # The patched bash names bash-libs' store path in its ELF interpreter and RUNPATH; copying it
  # here (with bash-libs as an input) makes Nix record that reference, so the libs travel with it.
  bash = make "bash-5.2" ''
    : \${bashLibs}
    \${bb} mkdir -p $out/bin
    \${bb} cp \${bashSrc}/bin/bash $out/bin/bash
    \${bb} chmod 755 $out/bin/bash
  '';
  # Two outputs like a nixpkgs library: \`out\` (what run mode links) and \`dev\` (headers, pkg-config).
  libgreet = derivation {
    name = "libgreet-1.0";
    system = "x86_64-linux";
    builder = bb;
    outputs = [ "out" "dev" ];
    args = [ "sh" "-c" ''
      set -e
      \${bb} mkdir -p $out/lib/python3.11/site-packages $dev/include $dev/lib/pkgconfig
      \${bb} mkdir -p $out/nix-support $out/etc/profile.d
      echo 'greeting = "hi"' > $out/lib/python3.11/site-packages/greet.py
      echo "\${greeting}" > $out/nix-support/propagated-build-inputs
      echo 'export GREET_PROFILE_D="sourced with FLOX_ENV=$FLOX_ENV"' > $out/etc/profile.d/greet.sh
      echo 'int greet(void);' > $dev/include/greet.h
      printf 'Name: greet\\nVersion: 1.0\\n' > $dev/lib/pkgconfig/greet.pc
    '' ];
  };
  # Reads $SSL_CERT_FILE as a TLS client does: fails without a readable bundle, else counts its CAs.
  tls-check = make "tls-check-1.0" ''
    \${bb} mkdir -p $out/bin
    \${script "$out/bin/tls-check" "test -r \\"$SSL_CERT_FILE\\" || { echo \\"tls-check: no CA bundle at SSL_CERT_FILE=$SSL_CERT_FILE\\" >&2; exit 1; }; echo \\"$SSL_CERT_FILE $(\${bb} grep -c \\"BEGIN CERTIFICATE\\" \\"$SSL_CERT_FILE\\") certificates\\""}
  '';
  # python3 as the dev profile scripts test for it: bin/python3 (named for its version) and pip3.
  python3 = make "python3-3.11.9" ''
    \${bb} mkdir -p $out/bin $out/lib/python3.11/site-packages
    \${script "$out/bin/python3.11" "echo fake python"}
    \${bb} ln -s python3.11 $out/bin/python3
    \${script "$out/bin/pip3" "echo fake pip"}
  '';
  unsigned = make "unsigned-1.0" ''
    \${bb} mkdir -p $out/bin
    \${script "$out/bin/unsigned" "echo unsigned"}
  '';
}`;

const BUILT: FixtureName[] = [
  "coreutils",
  "hello",
  "hello-other",
  "greeting",
  "hello2",
  "unsigned",
  "bash",
  "libgreet",
  "libgreet-dev",
  "tls-check",
  "python3",
];
// nix-build attributes, in BUILT's order (the dev output of libgreet is an attribute of its own).
const ATTRS: Record<string, string> = { libgreet: "libgreet.out", "libgreet-dev": "libgreet.dev" };

const cache = new Map<string, Promise<Fixtures>>();

/**
 * Builds the fixture packages under `dir` (once per process and directory) and publishes them to a
 * signed `file://` cache at `<dir>/cache`. Offline: the only input is the host's static busybox.
 */
export function buildFixturePackages(dir: string): Promise<Fixtures> {
  const key = resolve(dir);
  let built = cache.get(key);
  if (built === undefined) {
    built = build(key);
    cache.set(key, built);
  }
  return built;
}

async function build(dir: string): Promise<Fixtures> {
  // Start clean: keys and signatures from an earlier run would not match a cache `nix copy` skips.
  await removeTree(dir);
  const buildStore: NixStore = {
    storeRoot: join(dir, "build-store"),
    substituters: [],
    trustedPublicKeys: [],
    requireSigs: false,
  };
  const args = storeArgs(buildStore);
  const sources = join(dir, "sources");
  await mkdir(join(sources, "busybox", "bin"), { recursive: true });
  await copyFile(BUSYBOX, join(sources, "busybox", "bin", "busybox"));
  await chmod(join(sources, "busybox", "bin", "busybox"), 0o755);
  const busybox = storePathOf(
    await runNix("nix-store", ["--add", join(sources, "busybox"), ...args], { action: "adding busybox" }),
  );

  const bash = await addBash(sources, args);
  await mkdir(join(sources, "cacert", "etc", "ssl", "certs"), { recursive: true });
  await copyFile(HOST_CA_BUNDLE, join(sources, "cacert", "etc", "ssl", "certs", "ca-bundle.crt"));
  const cacert = storePathOf(
    await runNix("nix-store", ["--add", join(sources, "cacert"), ...args], {
      action: "adding the CA bundle",
    }),
  );

  await writeFile(join(sources, "packages.nix"), PACKAGES_NIX);
  const attrs = BUILT.flatMap((name) => ["-A", ATTRS[name] ?? name]);
  const out = await runNix(
    "nix-build",
    [
      join(sources, "packages.nix"),
      "--no-out-link",
      ...["--argstr", "busyboxPath", busybox],
      ...["--argstr", "bashPath", bash.source],
      ...["--argstr", "bashLibsPath", bash.libs],
      ...attrs,
      ...args,
    ],
    { action: "building the fixture packages" },
  );
  const paths = out
    .split("\n")
    .filter((line) => line !== "")
    .map(storePathOf);
  const packages = { busybox, "bash-libs": bash.libs, cacert } as Record<FixtureName, StorePath>;
  BUILT.forEach((name, index) => {
    const path = paths[index];
    if (path === undefined) throw new Error(`nix-build printed no path for fixture ${name}`);
    packages[name] = path;
  });

  const secretKeyFile = join(dir, "cache-key.sec");
  const publicKeyFile = join(dir, "cache-key.pub");
  await runNix("nix-store", ["--generate-binary-cache-key", KEY_NAME, secretKeyFile, publicKeyFile], {
    action: "generating a cache key",
  });
  const publicKey = (await readFile(publicKeyFile, "utf8")).trim();
  const signed = Object.entries(packages)
    .filter(([name]) => name !== "unsigned")
    .map(([, path]) => path);
  const nixArgs = ["--extra-experimental-features", "nix-command", ...args];
  await runNix("nix", ["store", "sign", "--key-file", secretKeyFile, ...signed, ...nixArgs], {
    action: "signing the fixture packages",
  });
  const cacheDir = join(dir, "cache");
  // zstd: quick to write and read (xz spends most of a second on busybox alone).
  await runNix(
    "nix",
    ["copy", "--to", `file://${cacheDir}?compression=zstd`, ...Object.values(packages), ...nixArgs],
    {
      action: "copying the fixture packages to the cache",
    },
  );
  return { cacheDir, cacheUrl: `file://${cacheDir}`, publicKey, secretKeyFile, buildStore, packages };
}

/**
 * Adds Debian's bash to the store so it runs in an empty image with only /nix mounted (its libraries
 * in `bash-libs`); packages.nix turns the patched copy into the `bash` package.
 */
async function addBash(
  sources: string,
  args: readonly string[],
): Promise<{ libs: StorePath; source: StorePath }> {
  const { libs, programs } = await importHostPrograms({
    name: "bash",
    programs: { bash: HOST_BASH },
    workDir: sources,
    storeArgs: args,
  });
  return { libs, source: programs };
}

function storePathOf(line: string): StorePath {
  const path = line.trim();
  if (!isStorePath(path)) throw new Error(`expected a store path from nix, got "${path}"`);
  return path;
}

/** Options of {@link lockEntry}. */
export interface LockEntryOptions {
  installId?: string;
  priority?: number;
  version?: string;
  /** Every output by name; default `{ out: storePath }`. */
  outputs?: Record<string, StorePath>;
  /** Default `["out"]`. */
  outputsToInstall?: string[];
}

/**
 * A catalog package entry of `manifest.lock` for x86_64-linux whose only output is `storePath`,
 * shaped like the ones Flox writes.
 */
export function lockEntry(
  name: string,
  storePath: StorePath,
  opts: LockEntryOptions = {},
): Record<string, unknown> {
  const version = opts.version ?? "1.0";
  const hash = storePath.slice("/nix/store/".length, "/nix/store/".length + 32);
  const rev = "0123456789abcdef0123456789abcdef01234567";
  return {
    attr_path: name,
    broken: false,
    derivation: `/nix/store/${hash}-${name}-${version}.drv`,
    description: `${name}, a test package`,
    install_id: opts.installId ?? name,
    license: "MIT",
    locked_url: `https://github.com/flox/nixpkgs?rev=${rev}`,
    name: `${name}-${version}`,
    pname: name,
    rev,
    rev_count: 1,
    rev_date: "2026-01-01T00:00:00Z",
    scrape_date: "2026-01-02T00:00:00Z",
    stabilities: ["stable"],
    unfree: false,
    version,
    outputs_to_install: opts.outputsToInstall ?? ["out"],
    outputs: opts.outputs ?? { out: storePath },
    system: "x86_64-linux",
    group: "toplevel",
    priority: opts.priority ?? 5,
  };
}
