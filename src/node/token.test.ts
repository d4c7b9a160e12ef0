import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagelessError } from "../errors/imageless-error.js";
import type { OciSpec } from "../oci/spec.js";
import { podTokenSource, readToken } from "./token.js";

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
