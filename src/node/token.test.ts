import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import type { OciSpec } from "../oci/spec.js";
import { MAX_TOKEN_BYTES, podTokenSource, readToken } from "./token.js";

const specWith = (mounts: { destination: string; source?: string }[]): OciSpec => ({ mounts }) as OciSpec;

describe("podTokenSource()", () => {
  const cases: ReadonlyArray<readonly [string, OciSpec, string | undefined]> = [
    [
      "a directory mount",
      specWith([{ destination: "/var/run/secrets/flox.dev", source: "/s" }]),
      "/s/floxhub-token",
    ],
    [
      "a directory mount with a trailing slash",
      specWith([{ destination: "/var/run/secrets/flox.dev/", source: "/s" }]),
      "/s/floxhub-token",
    ],
    [
      "a file mount",
      specWith([{ destination: "/var/run/secrets/flox.dev/floxhub-token", source: "/f" }]),
      "/f",
    ],
    ["no mount", specWith([{ destination: "/data", source: "/d" }]), undefined],
    ["a mount without a source", specWith([{ destination: "/var/run/secrets/flox.dev" }]), undefined],
    [
      "another secret",
      specWith([{ destination: "/var/run/secrets/kubernetes.io/serviceaccount", source: "/k" }]),
      undefined,
    ],
  ];
  for (const [label, spec, expected] of cases) {
    it(`finds ${String(expected)} for ${label}`, () => assert.equal(podTokenSource(spec), expected));
  }
});

describe("readToken()", () => {
  let dir: string;
  const expired = `a.${Buffer.from(JSON.stringify({ exp: 1000 })).toString("base64url")}.c`;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "token-test-"));
    await writeFile(join(dir, "floxhub-token"), "pod-token\n");
    await writeFile(join(dir, "node-token"), "node-token");
    await writeFile(join(dir, "empty"), "  \n");
    await writeFile(join(dir, "expired"), expired);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("prefers the pod's token over the node's, trimmed", async () => {
    const spec = specWith([{ destination: "/var/run/secrets/flox.dev", source: dir }]);
    assert.equal((await readToken(spec, join(dir, "node-token")))?.reveal(), "pod-token");
  });
  it("falls back to the node token file, and to anonymous", async () => {
    assert.equal((await readToken(specWith([]), join(dir, "node-token")))?.reveal(), "node-token");
    assert.equal(await readToken(specWith([]), ""), undefined);
    assert.equal(await readToken(specWith([]), join(dir, "empty")), undefined);
  });
  it("fails a pod mount without the key as failed-precondition", async () => {
    const spec = specWith([
      { destination: "/var/run/secrets/flox.dev/floxhub-token", source: join(dir, "missing") },
    ]);
    await assert.rejects(
      readToken(spec, ""),
      (e: unknown) => e instanceof ImagelessError && e.kind === "failed-precondition",
    );
  });
  it("fails an expired JWT as unauthorized naming the node token file", async () => {
    await assert.rejects(readToken(specWith([]), join(dir, "expired"), 2_000_000), (e: unknown) => {
      assert.ok(e instanceof ImagelessError && e.kind === "unauthorized");
      assert.match(e.message, /node token file .*expired at 1970-01-01T00:16:40\.000Z/);
      assert.ok(!e.message.includes(expired));
      return true;
    });
  });
});

describe("readToken() reads the pod's file warily", () => {
  let dir: string;
  const mountOf = (name: string) =>
    specWith([{ destination: "/var/run/secrets/flox.dev", source: join(dir, name) }]);
  /** A Secret directory holding `floxhub-token` made by `make(secretDir)`. */
  async function secret(name: string, make: (secretDir: string) => Promise<void>): Promise<void> {
    const secretDir = join(dir, name);
    await mkdir(secretDir, { recursive: true });
    await make(secretDir);
  }
  const refusal = (pattern: RegExp) => (e: unknown) => {
    assert.ok(e instanceof ImagelessError, String(e));
    assert.equal(e.kind, "failed-precondition");
    assert.match(e.message, pattern);
    assert.equal(e.message.split("\n").length, 1, "one line");
    return true;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "token-wary-"));
    await writeFile(join(dir, "outside-token"), "outside-secret");
    // Kubernetes' atomic-writer layout of a Secret volume.
    await secret("kubernetes", async (d) => {
      await mkdir(join(d, "..2026_12_02_12_00_00.123456789"));
      await writeFile(join(d, "..2026_12_02_12_00_00.123456789", "floxhub-token"), "k8s-token\n");
      await symlink("..2026_12_02_12_00_00.123456789", join(d, "..data"));
      await symlink("..data/floxhub-token", join(d, "floxhub-token"));
    });
    await secret("to-dev-zero", (d) => symlink("/dev/zero", join(d, "floxhub-token")));
    await secret("to-outside", (d) => symlink(join(dir, "outside-token"), join(d, "floxhub-token")));
    await secret("two-hops-out", async (d) => {
      await symlink(dir, join(d, "..data"));
      await symlink("..data/outside-token", join(d, "floxhub-token"));
    });
    await secret("huge", (d) => writeFile(join(d, "floxhub-token"), "x".repeat(MAX_TOKEN_BYTES + 1)));
    await secret("fifo", async (d) => {
      execFileSync("mkfifo", [join(d, "floxhub-token")]);
    });
    await secret("directory", (d) => mkdir(join(d, "floxhub-token")));
    await secret("two-lines", (d) =>
      writeFile(join(d, "floxhub-token"), "abc\nmachine evil login x password y\n"),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("follows Kubernetes' ..data links inside the mount", async () => {
    assert.equal((await readToken(mountOf("kubernetes"), ""))?.reveal(), "k8s-token");
  });
  it("refuses a link to /dev/zero without reading it", async () => {
    await assert.rejects(
      readToken(mountOf("to-dev-zero"), ""),
      refusal(/links outside the secret mount \(to \/dev\/zero\)/),
    );
  });
  it("refuses a link to a file outside the mount, also through two hops", async () => {
    await assert.rejects(readToken(mountOf("to-outside"), ""), refusal(/links outside the secret mount/));
    await assert.rejects(readToken(mountOf("two-hops-out"), ""), refusal(/links outside the secret mount/));
  });
  it("refuses a file larger than 64 KiB", async () => {
    await assert.rejects(
      readToken(mountOf("huge"), ""),
      refusal(/65537 bytes, more than the 65536 a token may have/),
    );
  });
  it("refuses a token with whitespace inside (it would split a netrc entry)", async () => {
    await assert.rejects(
      readToken(mountOf("two-lines"), ""),
      refusal(/contains whitespace or control characters/),
    );
  });
  it("refuses a FIFO without blocking, and a directory", async () => {
    await assert.rejects(readToken(mountOf("fifo"), ""), refusal(/not a regular file/));
    await assert.rejects(readToken(mountOf("directory"), ""), refusal(/not a regular file|EISDIR/));
  });
});
