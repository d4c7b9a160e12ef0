/**
 * The owner and environment names at the edges of the one rule (src/names/environment-names.ts, its
 * table test beside it) the whole way through: each accepted edge is pushed with `imageless env push`,
 * listed with `imageless env list` and started in a pod on a node whose git server and cache is the
 * hub; each refused edge stops the CLI with the one line naming it, before anything reaches the hub.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { EnvironmentSummary } from "../../src/hub-client/api-types.js";
import { ENVIRONMENT_NAME_RULE, OWNER_RULE } from "../../src/names/environment-names.js";
import { type FloxNode, runInEnvironment } from "../harness/flox-node.js";
import { type HubProcess, startHubProcess } from "../harness/hub.js";
import { type CliUser, cliUser, loginAsAdmin, pushEnv, startNodeOnHub } from "../harness/hub-cli.js";
import { buildFixturePackages, type Fixtures } from "../harness/nix-fixtures.js";
import { writeStorePathEnv } from "../harness/store-path-env.js";
import { makeTempDir, removeTree } from "../harness/temp.js";

/** The user logged in: the hub's admin, whose handle is a plain owner. */
const ADMIN = "admin";

/**
 * Every accepted edge of the rule's table, an owner edge paired with a name edge so that eight
 * pushes cover them all; the owners other than the admin are organisations the admin creates.
 */
const ACCEPTED: readonly { readonly owner: string; readonly name: string }[] = [
  { owner: "a.b", name: "_web" },
  { owner: "x.lock", name: "Web" },
  { owner: "a".repeat(39), name: "a".repeat(100) },
  { owner: "web-1_2.3", name: "ACME" },
  { owner: ADMIN, name: "a.b" },
  { owner: ADMIN, name: "a".repeat(39) },
  { owner: ADMIN, name: "a".repeat(40) },
  { owner: ADMIN, name: "web-1_2.3" },
];
const ORGANISATIONS = [...new Set(ACCEPTED.map((ref) => ref.owner))].filter((owner) => owner !== ADMIN);

/** The refused edges of the table, as the owner (with name `web`) and as the name (of owner `admin`). */
const REFUSED_OWNERS = ["_web", "a..b", "a".repeat(40), "Web", "-web", ".web", "wéb"];
const REFUSED_NAMES = ["a..b", "x.lock", "a".repeat(101), "-web", ".web", "wéb", "a:b"];

let work: string;
let hub: HubProcess;
let user: CliUser;
let fixtures: Fixtures;
let node: FloxNode;
let envDir: string;
let secretDir: string;

before(async () => {
  work = await makeTempDir("env-names");
  fixtures = await buildFixturePackages(join(work, "fixtures"));
  hub = await startHubProcess({ user: ADMIN });
  user = cliUser(work);
  assert.equal(await loginAsAdmin(user, hub), ADMIN);
  node = await startNodeOnHub(hub, fixtures);
  envDir = join(work, "env");
  await writeStorePathEnv(envDir, { hello: fixtures.packages.hello, coreutils: fixtures.packages.coreutils });
  // The environments are private: the pods read them (and their cache) with the admin's token.
  secretDir = join(work, "secret");
  await mkdir(secretDir);
  await writeFile(join(secretDir, "floxhub-token"), `${hub.adminToken}\n`);
});

after(async () => {
  await node?.stop();
  await hub?.stop();
  await removeTree(work);
});

/** `owner/name`, shortened for test titles. */
function label(ref: string): string {
  return ref.replace(/a{12,}/g, (run) => `a×${run.length}`);
}

describe("names at the accepted edges go from env push to a pod", () => {
  it("creates the organisations at the owner edges", async () => {
    for (const org of ORGANISATIONS) {
      assert.equal(
        await user.ok(["hub", "org", "create", org]),
        `created organisation ${org}; you are its owner\n`,
      );
    }
  });

  for (const { owner, name } of ACCEPTED) {
    const ref = `${owner}/${name}`;
    it(`${label(ref)}: pushed, listed under its owner and started`, async () => {
      const pushed = await pushEnv(user, envDir, ref, fixtures);
      assert.equal(pushed.generation, 1);
      const listed = JSON.parse(
        await user.ok(["env", "list", "--owner", owner, "--json"]),
      ) as EnvironmentSummary[];
      assert.deepEqual(
        listed.filter((env) => env.name === name).map(({ updatedAt: _, ...env }) => env),
        [{ owner, name, visibility: "private", liveGeneration: 1, totalGenerations: 1 }],
      );
      const mounts = [{ hostPath: secretDir, containerPath: "/var/run/secrets/flox.dev", readonly: true }];
      const podName = `names-${ACCEPTED.findIndex((r) => r.owner === owner && r.name === name)}`;
      assert.deepEqual(
        await runInEnvironment(node, podName, ref, 'echo "$FLOX_ENV_DESCRIPTION"; hello', mounts),
        {
          output: `${ref}\nHello, world!`,
          exitCode: 0,
        },
      );
    });
  }

  it("env list shows every one of them, each once", async () => {
    const listed = JSON.parse(await user.ok(["env", "list", "--json"])) as EnvironmentSummary[];
    assert.deepEqual(
      listed.map((env) => `${env.owner}/${env.name}`).sort(),
      ACCEPTED.map((ref) => `${ref.owner}/${ref.name}`).sort(),
    );
  });
});

describe("names at the refused edges stop the CLI with one line", () => {
  const refused = [
    ...REFUSED_OWNERS.map((owner) => ({
      ref: `${owner}/web`,
      why: `owner ${JSON.stringify(owner)} is not an owner name`,
    })),
    ...REFUSED_NAMES.map((name) => ({
      ref: `${ADMIN}/${name}`,
      why: `name ${JSON.stringify(name)} is not an environment name`,
    })),
  ];
  for (const { ref, why } of refused) {
    it(`env push -r ${label(ref)}`, async () => {
      assert.deepEqual(await user.run(["env", "push", "-d", envDir, "-r", ref]), {
        code: 2,
        stdout: "",
        stderr: `imageless: -r: cannot use ${JSON.stringify(ref)}: ${why}; accepted: "owner/name", owner ${OWNER_RULE}, name ${ENVIRONMENT_NAME_RULE}\n`,
      });
    });
  }
});
