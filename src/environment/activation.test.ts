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
    assert.equal(env.get("INFOPATH"), `${ENV}/share/info:`);
    assert.equal(env.get("XDG_DATA_DIRS"), `${ENV}/share`);
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

  it("carries the generation in _FLOX_ACTIVE_ENVIRONMENTS only for a pinned reference", () => {
    const live = asMap(computeActivation({ ...input, pinned: false }, [], "/").env);
    assert.deepEqual(JSON.parse(live.get("_FLOX_ACTIVE_ENVIRONMENTS") ?? "")[0], {
      environment: {
        type: "remote",
        owner: "acme",
        name: "web",
        floxhub_url: "https://hub.flox.dev",
        version: 1,
      },
      mode: "run",
    });
    const pinned = asMap(computeActivation({ ...input, pinned: true }, [], "/").env);
    assert.equal(JSON.parse(pinned.get("_FLOX_ACTIVE_ENVIRONMENTS") ?? "")[0].generation, "3");
  });

  // What flox-activations' set-env-dirs / fix-paths and 0100_common-run-mode-paths.sh compute.
  const paths: [string, string[], Record<string, string>][] = [
    [
      "dedups PATH and keeps its empty entries",
      ["PATH=/usr/bin:/bin:/usr/bin::"],
      { PATH: `${ENV}/bin:/usr/bin:/bin::` },
    ],
    [
      "drops the environment's own bin already on PATH",
      [`PATH=/bin:${ENV}/bin`],
      { PATH: `${ENV}/bin:/bin` },
    ],
    [
      "adds man's default dirs with a trailing colon",
      ["MANPATH=/usr/man"],
      { MANPATH: `${ENV}/share/man:/usr/man:` },
    ],
    [
      "keeps a MANPATH that already has an empty entry",
      ["MANPATH=:/usr/man"],
      { MANPATH: `${ENV}/share/man::/usr/man` },
    ],
    ["prepends INFOPATH verbatim", ["INFOPATH=/i"], { INFOPATH: `${ENV}/share/info:/i` }],
    ["prepends XDG_DATA_DIRS", ["XDG_DATA_DIRS=/x"], { XDG_DATA_DIRS: `${ENV}/share:/x` }],
    [
      "puts FLOX_ENV first in FLOX_ENV_DIRS and the bins of every dir on PATH",
      ["FLOX_ENV_DIRS=/outer", "PATH=/bin"],
      {
        FLOX_ENV_DIRS: `${ENV}:/outer`,
        PATH: `${ENV}/bin:/outer/bin:/bin`,
        MANPATH: `${ENV}/share/man:/outer/share/man:`,
      },
    ],
    [
      "keeps FLOX_ENV_DIRS that already list it",
      [`FLOX_ENV_DIRS=/outer:${ENV}`],
      { FLOX_ENV_DIRS: `/outer:${ENV}` },
    ],
  ];
  for (const [name, containerEnv, expected] of paths) {
    it(`computeActivation() ${name}`, () => {
      const env = asMap(computeActivation(input, containerEnv, "/").env);
      for (const [key, value] of Object.entries(expected)) assert.equal(env.get(key), value, key);
    });
  }

  // Flox's envrc: SSL_CERT_FILE, NIX_SSL_CERT_FILE and LOCALE_ARCHIVE default only when unset or empty.
  const defaults = {
    caBundle: "/nix/store/x-cacert/etc/ssl/certs/ca-bundle.crt",
    localeArchive: "/nix/store/x-locales/lib/locale/locale-archive",
  };
  const envrc: [string, string[], Record<string, string | undefined>][] = [
    [
      "sets all three when unset",
      [],
      {
        SSL_CERT_FILE: defaults.caBundle,
        NIX_SSL_CERT_FILE: defaults.caBundle,
        LOCALE_ARCHIVE: defaults.localeArchive,
      },
    ],
    [
      "keeps the container's SSL_CERT_FILE and follows it in NIX_SSL_CERT_FILE",
      ["SSL_CERT_FILE=/etc/mine.pem"],
      { SSL_CERT_FILE: "/etc/mine.pem", NIX_SSL_CERT_FILE: "/etc/mine.pem" },
    ],
    ["treats an empty value as unset", ["SSL_CERT_FILE="], { SSL_CERT_FILE: defaults.caBundle }],
    [
      "keeps the container's NIX_SSL_CERT_FILE and LOCALE_ARCHIVE",
      ["NIX_SSL_CERT_FILE=/n", "LOCALE_ARCHIVE=/l"],
      { NIX_SSL_CERT_FILE: "/n", LOCALE_ARCHIVE: "/l" },
    ],
  ];
  for (const [name, containerEnv, expected] of envrc) {
    it(`computeActivation() envrc defaults: ${name}`, () => {
      const env = asMap(computeActivation({ ...input, defaults }, containerEnv, "/").env);
      for (const [key, value] of Object.entries(expected)) assert.equal(env.get(key), value, key);
    });
  }
  it("computeActivation() sets no certificate or locale variable when there is no default", () => {
    const env = asMap(computeActivation(input, [], "/").env);
    for (const key of ["SSL_CERT_FILE", "NIX_SSL_CERT_FILE", "LOCALE_ARCHIVE"])
      assert.equal(env.has(key), false, key);
  });
  it("computeActivation() lets [vars] use the envrc defaults", () => {
    const env = asMap(
      computeActivation({ ...input, defaults, vars: { CURL_CA_BUNDLE: "$SSL_CERT_FILE" } }, [], "/").env,
    );
    assert.equal(env.get("CURL_CA_BUNDLE"), defaults.caBundle);
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

  it("needs a shell only for a hook, shell-only [vars] or dev-mode profile.d scripts", () => {
    const devLayout = {
      pythonSitePackages: [],
      jupyter: false,
      java: false,
      rustSrc: false,
      profileScripts: ["x.sh"],
    };
    assert.equal(computeActivation({ ...input, mode: "dev", devLayout }, [], "/").needsShell, true);
    assert.equal(computeActivation({ ...input, mode: "run", devLayout }, [], "/").needsShell, false);
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
    assert.equal(env.get("ACLOCAL_PATH"), `${ENV}/share/aclocal`);
    assert.equal(env.has("CMAKE_PREFIX_PATH"), false, "only with cmake");
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

  const none = { pythonSitePackages: [], jupyter: false, java: false, rustSrc: false };
  // The rules of Flox's dev profile.d (0501_rust, 0502_jupyter, 0503_java, profile.d.functions).
  const languages: [string, object, string[], Record<string, string | undefined>][] = [
    [
      "nothing without the languages",
      none,
      [],
      {
        PYTHONPATH: undefined,
        PIP_CONFIG_FILE: undefined,
        CMAKE_PREFIX_PATH: undefined,
        JUPYTER_PATH: undefined,
        JAVA_HOME: undefined,
        RUST_SRC_PATH: undefined,
      },
    ],
    [
      "PYTHONPATH from python3's version for every env dir, deduplicated",
      { ...none, python: { version: "3.12" } },
      ["FLOX_ENV_DIRS=/outer", `PYTHONPATH=/p:${ENV}/lib/python3.12/site-packages`],
      { PYTHONPATH: `${ENV}/lib/python3.12/site-packages:/outer/lib/python3.12/site-packages:/p` },
    ],
    [
      "PYTHONPATH from the site-packages found when the version is unknown",
      { ...none, python: {}, pythonSitePackages: ["lib/python3.11/site-packages"] },
      [],
      { PYTHONPATH: `${ENV}/lib/python3.11/site-packages` },
    ],
    [
      "no PYTHONPATH for site-packages without python3",
      { ...none, pythonSitePackages: ["lib/python3.11/site-packages"] },
      [],
      { PYTHONPATH: undefined },
    ],
    [
      "PIP_CONFIG_FILE in the env cache with pip3",
      { ...none, pip3: true },
      [],
      { PIP_CONFIG_FILE: "/var/cache/flox/pip.ini" },
    ],
    [
      "CMAKE_PREFIX_PATH with cmake",
      { ...none, cmake: true },
      ["CMAKE_PREFIX_PATH=/c"],
      { CMAKE_PREFIX_PATH: `${ENV}:/c` },
    ],
    [
      "JUPYTER_PATH, JAVA_HOME and RUST_SRC_PATH",
      { ...none, jupyter: true, java: true, rustSrc: true },
      ["JUPYTER_PATH=/j"],
      { JUPYTER_PATH: `${ENV}/share/jupyter:/j`, JAVA_HOME: ENV, RUST_SRC_PATH: ENV },
    ],
  ];
  for (const [name, devLayout, containerEnv, expected] of languages) {
    it(`computeActivation() dev mode: ${name}`, () => {
      const env = asMap(
        computeActivation({ ...input, mode: "dev", devLayout: devLayout as typeof none }, containerEnv, "/")
          .env,
      );
      for (const [key, value] of Object.entries(expected)) assert.equal(env.get(key), value, key);
    });
  }
  it("computeActivation() sets no development variable in run mode", () => {
    const devLayout = {
      ...none,
      python: { version: "3.12" },
      pip3: true,
      cmake: true,
      jupyter: true,
      java: true,
      rustSrc: true,
    };
    const run = asMap(computeActivation({ ...input, mode: "run", devLayout }, [], "/").env);
    for (const key of [
      "CPATH",
      "LIBRARY_PATH",
      "PKG_CONFIG_PATH",
      "ACLOCAL_PATH",
      "CMAKE_PREFIX_PATH",
      "PYTHONPATH",
      "PIP_CONFIG_FILE",
      "JUPYTER_PATH",
      "JAVA_HOME",
      "RUST_SRC_PATH",
    ]) {
      assert.equal(run.has(key), false, key);
    }
  });
});
