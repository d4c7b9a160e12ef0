/**
 * A typed promise client for containerd's CRI service (runtime.v1) over its unix socket: what the
 * kubelet would send. `imageless pod` and the tests use it. The proto is read from the source tree,
 * since tsc does not copy it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { getAsset, isSea } from "node:sea";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type {
  Container,
  ContainerFilter,
  ContainerStatus,
  CreateContainerRequest,
  ExecSyncResponse,
  Image,
  PodSandbox,
  PodSandboxFilter,
  RunPodSandboxRequest,
  VersionResponse,
} from "./types.js";

export type * from "./types.js";

/** The CRI calls `imageless pod` and the tests use; each rejects with the gRPC error (its `details` is containerd's message). */
export interface CriClient {
  version(): Promise<VersionResponse>;
  runPodSandbox(request: RunPodSandboxRequest): Promise<string>;
  stopPodSandbox(podSandboxId: string): Promise<void>;
  removePodSandbox(podSandboxId: string): Promise<void>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;
  createContainer(request: CreateContainerRequest): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  stopContainer(containerId: string, timeoutSeconds?: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  /** Runs `cmd` in the container; `timeoutSeconds` 0 means none. */
  execSync(containerId: string, cmd: readonly string[], timeoutSeconds?: number): Promise<ExecSyncResponse>;
  /** The image, or null when containerd does not have it. */
  imageStatus(image: string): Promise<Image | null>;
  listImages(): Promise<Image[]>;
  close(): void;
}

/** Per-call deadline: CRI answers in well under this unless something hangs. */
const CALL_TIMEOUT_MS = 60_000;

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
};

/** The error message a gRPC failure carries: containerd's text, without the `2 UNKNOWN: ` prefix. */
export function grpcErrorMessage(error: unknown): string {
  if (
    typeof error === "object" &&
    error !== null &&
    "details" in error &&
    typeof error.details === "string"
  ) {
    return error.details;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Connects to a CRI socket (no round trip yet; the first call connects).
 *
 * @example
 * const cri = connectCri(containerd.socket);
 * try { console.log((await cri.version()).runtimeVersion); } finally { cri.close(); }
 */
export function connectCri(socket: string): CriClient {
  const definition = loadCriDefinition();
  const runtime = service(definition, "runtime.v1.RuntimeService");
  const images = service(definition, "runtime.v1.ImageService");
  const client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());

  // proto-loader decodes every response against the schema (defaults filled in), so the shapes in
  // cri/types.ts hold for what comes back; the generic parameter only names that shape.
  function call<Res>(methods: protoLoader.ServiceDefinition, name: string, request: object): Promise<Res> {
    const method = methods[name];
    if (method === undefined) throw new Error(`CRI method ${name} is not in runtime-v1.proto`);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (error, response) => {
          if (error !== null) reject(error);
          else resolve(response as Res);
        },
      );
    });
  }

  return {
    version: () => call<VersionResponse>(runtime, "Version", { version: "v1" }),
    runPodSandbox: async (request) =>
      (await call<{ podSandboxId: string }>(runtime, "RunPodSandbox", request)).podSandboxId,
    stopPodSandbox: async (podSandboxId) => {
      await call(runtime, "StopPodSandbox", { podSandboxId });
    },
    removePodSandbox: async (podSandboxId) => {
      await call(runtime, "RemovePodSandbox", { podSandboxId });
    },
    listPodSandbox: async (filter) =>
      (await call<{ items: PodSandbox[] }>(runtime, "ListPodSandbox", filter ? { filter } : {})).items,
    createContainer: async (request) =>
      (await call<{ containerId: string }>(runtime, "CreateContainer", request)).containerId,
    startContainer: async (containerId) => {
      await call(runtime, "StartContainer", { containerId });
    },
    stopContainer: async (containerId, timeoutSeconds = 0) => {
      await call(runtime, "StopContainer", { containerId, timeout: timeoutSeconds });
    },
    removeContainer: async (containerId) => {
      await call(runtime, "RemoveContainer", { containerId });
    },
    containerStatus: async (containerId) => {
      const response = await call<{ status: ContainerStatus | null }>(runtime, "ContainerStatus", {
        containerId,
      });
      if (response.status === null)
        throw new Error(`CRI ContainerStatus ${containerId}: no status in the answer`);
      return response.status;
    },
    listContainers: async (filter) =>
      (await call<{ containers: Container[] }>(runtime, "ListContainers", filter ? { filter } : {}))
        .containers,
    execSync: (containerId, cmd, timeoutSeconds = 0) =>
      call<ExecSyncResponse>(runtime, "ExecSync", { containerId, cmd: [...cmd], timeout: timeoutSeconds }),
    imageStatus: async (image) =>
      (await call<{ image: Image | null }>(images, "ImageStatus", { image: { image } })).image,
    listImages: async () => (await call<{ images: Image[] }>(images, "ListImages", {})).images,
    close: () => client.close(),
  };
}

function service(definition: protoLoader.PackageDefinition, name: string): protoLoader.ServiceDefinition {
  const found = definition[name];
  // Message and enum definitions carry `format`; a service definition is a map of methods.
  if (found === undefined || "format" in found)
    throw new Error(`${name} is not a service in runtime-v1.proto`);
  return found;
}

/**
 * The CRI definition. The single executable (docs/architecture.md, "What a node needs") has no files
 * beside it and carries the proto as an asset; proto-loader reads only files, so it gets a temporary one.
 */
function loadCriDefinition(): protoLoader.PackageDefinition {
  if (!isSea()) return protoLoader.loadSync(protoFile(), LOADER_OPTIONS);
  const dir = mkdtempSync(join(tmpdir(), "imageless-cri-"));
  try {
    const file = join(dir, "runtime-v1.proto");
    writeFileSync(file, getAsset("runtime-v1.proto", "utf8"));
    return protoLoader.loadSync(file, LOADER_OPTIONS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `runtime-v1.proto` beside this module in the source tree, or in `src/cri` when running from dist/. */
function protoFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, "runtime-v1.proto"),
    join(here, "..", "..", "..", "src", "cri", "runtime-v1.proto"),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (found === undefined) throw new Error(`runtime-v1.proto is in none of ${candidates.join(", ")}`);
  return found;
}
