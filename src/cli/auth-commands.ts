import type { Command } from "commander";
import { ImagelessError } from "../errors/imageless-error.js";
import { loginWithTokenFile } from "../hub-client/auth-login.js";
import { removeCredentials } from "../hub-client/credentials.js";
import { loadSession } from "../hub-client/session.js";

/** `imageless auth …`: the hub token this machine uses (saved in $XDG_CONFIG_HOME/imageless/credentials.toml). */
export function registerAuthCommands(program: Command): void {
  const auth = program.command("auth").description("log in to a hub with a token, print it, log out");

  auth
    .command("login")
    .description(
      "check a token with the hub and save it (0600). Non-interactive only: a browser device flow is not " +
        "supported; create a token on the hub (imageless hub user create, or POST /api/v1/tokens) and pass it here",
    )
    .requiredOption("--token-file <file>", "file holding the token, or - for stdin")
    .option("--hub <url>", "hub URL (default: the saved one, else https://hub.flox.dev)")
    .option("--json", "print JSON for scripts")
    .action(async (f: { tokenFile: string; hub?: string; json?: boolean }) => {
      const { hubUrl } = await loadSession(f.hub);
      const { account, path } = await loginWithTokenFile(hubUrl, f.tokenFile);
      const out = { hubUrl, handle: account.handle, kind: account.kind, credentials: path };
      process.stdout.write(
        `${f.json === true ? JSON.stringify(out, null, 2) : `logged in to ${hubUrl} as ${account.handle} (saved in ${path})`}\n`,
      );
    });

  auth
    .command("token")
    .description("print the token in use (for scripts; it is a secret)")
    .option("--hub <url>", "hub URL (default: the saved one)")
    .action(async (f: { hub?: string }) => {
      const { token, hubUrl } = await loadSession(f.hub);
      if (token === undefined) {
        throw new ImagelessError(
          "unauthorized",
          `not logged in to ${hubUrl}: run \`imageless auth login --token-file F\``,
        );
      }
      process.stdout.write(`${token.reveal()}\n`);
    });

  auth
    .command("logout")
    .description("remove the saved token")
    .action(async () => {
      const removed = await removeCredentials();
      process.stdout.write(
        `${removed ? "logged out: removed the saved token" : "not logged in: nothing to remove"}\n`,
      );
    });
}
