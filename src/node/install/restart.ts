import { existsSync } from "node:fs";
import { runHostCommand } from "./host-command.js";
import { onHost } from "./host-root.js";

/** How containerd gets restarted after its config changed. */
export type RestartPlan =
  | { readonly kind: "run"; readonly argv: readonly string[]; readonly unit: string }
  | { readonly kind: "manual"; readonly message: string };

/** What the restart decision needs to know about the host. */
export interface RestartFacts {
  readonly flavour: "containerd" | "k3s";
  /** `/` on the node itself; another directory when the host is seen from a container (`/host`). */
  readonly hostRoot: string;
  /** The host's systemd units this service may be (`k3s`, `k3s-agent`, `containerd`) that exist. */
  readonly units: readonly string[];
  readonly hasSystemctl: boolean;
  readonly hasNsenter: boolean;
}

/**
 * Decides how to restart containerd (k3s: the k3s or k3s-agent service, which runs it). On the node
 * itself: `systemctl restart`. From the DaemonSet's container (host PID namespace): the same through
 * `nsenter` into PID 1's mount namespace. Otherwise a message saying what to run. Pure.
 */
export function planRestart(facts: RestartFacts): RestartPlan {
  const wanted = facts.flavour === "k3s" ? ["k3s", "k3s-agent"] : ["containerd"];
  const unit = wanted.find((name) => facts.units.includes(name)) ?? wanted[0] ?? "containerd";
  const manual = `restart ${facts.flavour === "k3s" ? "k3s" : "containerd"} to load the new config: systemctl restart ${unit} (or your init system's equivalent)`;
  if (!facts.hasSystemctl || !facts.units.includes(unit)) return { kind: "manual", message: manual };
  if (facts.hostRoot === "/") return { kind: "run", argv: ["systemctl", "restart", unit], unit };
  if (!facts.hasNsenter) return { kind: "manual", message: manual };
  return {
    kind: "run",
    argv: [
      "nsenter",
      "--target",
      "1",
      "--mount",
      "--uts",
      "--ipc",
      "--net",
      "--pid",
      "--",
      "systemctl",
      "restart",
      unit,
    ],
    unit,
  };
}

/** Reads the facts {@link planRestart} needs from the host. */
export async function restartFacts(flavour: "containerd" | "k3s", hostRoot: string): Promise<RestartFacts> {
  const units = ["containerd", "k3s", "k3s-agent"].filter((unit) =>
    ["/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"].some((dir) =>
      existsSync(onHost(hostRoot, `${dir}/${unit}.service`)),
    ),
  );
  const hasSystemctl =
    hostRoot === "/"
      ? (await runHostCommand("systemctl", ["--version"], { timeoutMs: 5_000 })).code === 0
      : existsSync(onHost(hostRoot, "/usr/bin/systemctl")) || existsSync(onHost(hostRoot, "/bin/systemctl"));
  const hasNsenter = (await runHostCommand("nsenter", ["--version"], { timeoutMs: 5_000 })).code === 0;
  return { flavour, hostRoot, units, hasSystemctl, hasNsenter };
}

/** Restarts as planned; returns the line to print. */
export async function restartContainerd(flavour: "containerd" | "k3s", hostRoot: string): Promise<string> {
  const plan = planRestart(await restartFacts(flavour, hostRoot));
  if (plan.kind === "manual") return plan.message;
  const [program = "systemctl", ...args] = plan.argv;
  const result = await runHostCommand(program, args, { timeoutMs: 120_000 });
  if (result.code === 0) return `restarted ${plan.unit}`;
  return `restarting ${plan.unit} failed (${result.stderr.trim().split("\n").at(-1) ?? "no message"}): run systemctl restart ${plan.unit} on the node`;
}
