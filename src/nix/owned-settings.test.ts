import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NO_CONFIG_DIR, nixChildEnv, ownedNixConfig } from "./owned-settings.js";
import { runNix } from "./run-nix.js";

describe("nixChildEnv()", () => {
  it("drops every host Nix variable, keeps the rest and adds the owned settings", () => {
    const env = nixChildEnv({
      PATH: "/usr/bin",
      HOME: "/root",
      NIX_REMOTE: "daemon",
      NIX_CONF_DIR: "/etc/nix",
      NIX_USER_CONF_FILES: "/root/.config/nix/nix.conf",
      NIX_CONFIG: "require-sigs = false",
      NIX_PATH: "nixpkgs=/x",
      NIX_STORE_DIR: "/other/store",
    });
    assert.deepEqual(env, {
      PATH: "/usr/bin",
      HOME: "/root",
      NIX_CONF_DIR: NO_CONFIG_DIR,
      NIX_USER_CONF_FILES: `${NO_CONFIG_DIR}/nix.conf`,
      NIX_CONFIG: ownedNixConfig(),
    });
  });
});

describe("the owned settings, as Nix reads them", () => {
  it("win over a hostile NIX_CONFIG and config dir of the parent", async () => {
    const shown = await runNix("nix", ["show-config"], {
      action: "showing the configuration",
      env: {
        ...process.env,
        NIX_CONF_DIR: "/etc",
        NIX_CONFIG: "build-users-group = no-such-group\nrequire-sigs = false\nsandbox = true",
      },
    });
    const settings = new Map(
      shown
        .split("\n")
        .map((line) => line.split(" = "))
        .filter((pair): pair is [string, string] => pair.length === 2),
    );
    assert.deepEqual(
      ["build-users-group", "builders", "sandbox", "require-sigs", "experimental-features"].map((key) => [
        key,
        settings.get(key),
      ]),
      [
        ["build-users-group", ""],
        ["builders", ""],
        ["sandbox", "false"],
        ["require-sigs", "true"],
        ["experimental-features", "nix-command"],
      ],
    );
  });
});
