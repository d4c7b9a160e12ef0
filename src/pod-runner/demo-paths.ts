/**
 * Where the demo (scripts/demo.sh) keeps its private containerd: `imageless pod` talks to it unless
 * told another socket, so the commands the demo prints work as they are.
 */
import { join } from "node:path";

/** The demo's directory: its hub, node store, containerd and pod logs. */
export const DEMO_DIR = "/tmp/imageless-demo";
export const DEMO_CONTAINERD_SOCKET = join(DEMO_DIR, "containerd", "containerd.sock");
export const DEMO_POD_LOG_DIR = join(DEMO_DIR, "pod-logs");
/** The demo node's config (demo/demo-node.ts writes it): where `imageless pod run` finds the node log. */
export const DEMO_NODE_CONFIG = join(DEMO_DIR, "node.toml");
