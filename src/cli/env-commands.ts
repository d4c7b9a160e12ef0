import { hostname } from "node:os";
import type { Command } from "commander";
import { HubApiClient } from "../hub-client/api-client.js";
import { pullEnvironment } from "../hub-client/env-pull.js";
import { type CopyPathsMode, pushEnvironment } from "../hub-client/env-push.js";
import { parseEnvRefArg, parseGenerationArg, parseVisibilityArg } from "../hub-client/env-ref-arg.js";
import {
  formatEnvironmentDetail,
  formatEnvironmentList,
  formatGenerations,
  formatHistory,
  formatPull,
  formatPush,
  formatPushProgress,
  formatSwitch,
} from "../hub-client/format.js";
import { loadSession } from "../hub-client/session.js";
import { nixSystem } from "../node/system.js";

interface CommonFlags {
  hub?: string;
  json?: boolean;
  reference?: string;
}

/** `imageless env …`: environments on a FloxHub-compatible hub (docs/hub.md). */
export function registerEnvCommands(program: Command): void {
  const env = program.command("env").description("push, pull, inspect and switch environments on the hub");

  common(env.command("push").description("create the next generation from a Flox environment directory"))
    .requiredOption("-d, --dir <dir>", "Flox environment directory (holding .flox/env/manifest.toml)")
    .option("--copy-paths", "upload the lock's store path closures to the hub's cache (fail if it refuses)")
    .option("--no-copy-paths", "do not upload store paths")
    .option("--from-store <url>", "Nix store holding the paths (default: the local store)")
    .option("--git-url <url>", "git base URL (default: <hub>/git)")
    .action(
      async (f: CommonFlags & { dir: string; copyPaths?: boolean; fromStore?: string; gitUrl?: string }) => {
        const session = await loadSession(f.hub);
        const result = await pushEnvironment({
          ...session,
          token: session.token,
          dir: f.dir,
          ref: parseEnvRefArg(f.reference ?? ""),
          copyPaths: copyMode(f.copyPaths),
          ...(f.fromStore === undefined ? {} : { fromStore: f.fromStore }),
          ...(f.gitUrl === undefined ? {} : { gitUrl: f.gitUrl }),
          hostname: hostname(),
          timestamp: Math.floor(Date.now() / 1000),
          command: ["imageless", ...process.argv.slice(2)],
          localSystem: nixSystem(),
          // Progress goes to a person only: stderr on a terminal, never with --json.
          ...(f.json !== true && process.stderr.isTTY
            ? { onProgress: (event) => process.stderr.write(`${formatPushProgress(event)}\n`) }
            : {}),
        });
        print(f, result, formatPush);
      },
    );

  common(env.command("pull").description("write .flox/env/manifest.toml and manifest.lock of a generation"))
    .option("-d, --dir <dir>", "target directory", ".")
    .option("-g, --generation <n>", "generation (default: the live one)")
    .option("--git-url <url>", "git base URL (default: <hub>/git)")
    .action(async (f: CommonFlags & { dir: string; generation?: string; gitUrl?: string }) => {
      const session = await loadSession(f.hub);
      const result = await pullEnvironment({
        ...session,
        ref: parseEnvRefArg(f.reference ?? ""),
        dir: f.dir,
        ...(f.generation === undefined ? {} : { generation: parseGenerationArg(f.generation) }),
        ...(f.gitUrl === undefined ? {} : { gitUrl: f.gitUrl }),
      });
      print(f, result, formatPull);
    });

  withOutput(env.command("list").description("environments you may read"))
    .option("--owner <owner>", "only this owner's")
    .option("--visibility <v>", "public or private")
    .action(async (f: CommonFlags & { owner?: string; visibility?: string }) => {
      const filter = {
        ...(f.owner === undefined ? {} : { owner: f.owner }),
        ...(f.visibility === undefined ? {} : { visibility: parseVisibilityArg(f.visibility) }),
      };
      print(f, await (await client(f)).listEnvironments(filter), formatEnvironmentList);
    });

  common(env.command("show").description("packages, variables, hook and profile of a generation"))
    .option("-g, --generation <n>", "generation (default: the live one)")
    .action(async (f: CommonFlags & { generation?: string }) => {
      const gen = f.generation === undefined ? undefined : parseGenerationArg(f.generation);
      print(
        f,
        await (await client(f)).environment(parseEnvRefArg(f.reference ?? ""), gen),
        formatEnvironmentDetail,
      );
    });

  common(env.command("generations").description("every generation, the live one marked")).action(
    async (f: CommonFlags) => {
      print(f, await (await client(f)).generations(parseEnvRefArg(f.reference ?? "")), formatGenerations);
    },
  );

  common(env.command("history").description("who changed what, when and from where")).action(
    async (f: CommonFlags) => {
      print(f, await (await client(f)).history(parseEnvRefArg(f.reference ?? "")), formatHistory);
    },
  );

  common(env.command("switch").description("make a generation live").argument("<generation>")).action(
    async (generation: string, f: CommonFlags) => {
      const entry = await (await client(f)).switchGeneration(
        parseEnvRefArg(f.reference ?? ""),
        parseGenerationArg(generation),
      );
      print(f, entry, (e) => formatSwitch(f.reference ?? "", e));
    },
  );

  common(env.command("rollback").description("make the previously live generation live again")).action(
    async (f: CommonFlags) => {
      const entry = await (await client(f)).rollback(parseEnvRefArg(f.reference ?? ""));
      print(f, entry, (e) => formatSwitch(f.reference ?? "", e));
    },
  );

  common(env.command("visibility").description("make an environment public or private"))
    .argument("<visibility>", "public or private")
    .action(async (visibility: string, f: CommonFlags) => {
      const v = parseVisibilityArg(visibility);
      await (await client(f)).setVisibility(parseEnvRefArg(f.reference ?? ""), v);
      print(f, { visibility: v }, () => `${f.reference}: ${v}`);
    });
}

/** `-r owner/name` plus the output and hub flags. */
function common(cmd: Command): Command {
  return withOutput(cmd.requiredOption("-r, --reference <owner/name>", "the environment, owner/name"));
}

function withOutput(cmd: Command): Command {
  return cmd
    .option("--hub <url>", "hub URL (default: from the credentials, else https://hub.flox.dev)")
    .option("--json", "print JSON for scripts");
}

async function client(f: CommonFlags): Promise<HubApiClient> {
  return new HubApiClient(await loadSession(f.hub));
}

/** Commander leaves the value undefined when neither `--copy-paths` nor `--no-copy-paths` is given. */
function copyMode(flag: boolean | undefined): CopyPathsMode {
  if (flag === undefined) return "auto";
  return flag ? "always" : "never";
}

function print<T>(f: CommonFlags, value: T, text: (v: T) => string): void {
  process.stdout.write(`${f.json === true ? JSON.stringify(value, null, 2) : text(value)}\n`);
}
