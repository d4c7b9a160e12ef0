import type { ObjectReaderPool } from "../../git/object-reader-pool.js";
import type { Logger } from "../../log/logger.js";
import type { HubAccessImpl } from "../access-impl.js";
import type { HubStore } from "../db/hub-store.js";
import type { CommitCache } from "../environments/commit-cache.js";
import type { BranchLister } from "../git/branch-tips-cache.js";
import type { HubLimits } from "../hub-limits.js";
import type { TokenService } from "../tokens/token-service.js";

/** What the `/api/v1` routes are built from; the server wires one. */
export interface ApiDeps {
  readonly store: HubStore;
  readonly access: HubAccessImpl;
  readonly tokens: TokenService;
  /** The data directory (`git/<owner>/floxmeta` lives under it). */
  readonly dataDir: string;
  /** Unix milliseconds. */
  readonly now: () => number;
  /** Written as `hostname` into history entries the hub makes (switch, rollback). */
  readonly hostname: string;
  /** An owner's branches and their tips, re-read only when its ref files changed. */
  readonly branches: BranchLister;
  /** Parsed floxmeta content by commit id (immutable, so never stale). */
  readonly cache: CommitCache;
  /** git readers kept per floxmeta repository (one running `cat-file` each, ended when idle). */
  readonly objects: ObjectReaderPool;
  readonly limits: HubLimits;
  readonly log: Logger;
}
