import type { Database } from "@juanie/db";
import type { GitEngine } from "@juanie/git";
import type { KustomizeTool } from "@juanie/manifests";
import type { ProviderAdapter, ProviderConfig } from "@juanie/providers";
import type { KubePort } from "../clusters/port.ts";
import type { SecretBox } from "./secrets.ts";

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface DomainConfig {
  /** Public base URL of the platform, used in links (invitations, e-mails). */
  publicUrl: string;
  /** Whether anyone may create an account without an invitation. */
  allowSignup: boolean;
  sessionTtlHours: number;
}

/** What the repository, environment and deployment use cases need beyond the basics. */
export interface GitOpsDeps extends Deps {
  secrets: SecretBox;
  git: GitEngine;
  providers: (config: ProviderConfig) => ProviderAdapter;
  /** The Kubernetes clusters, through the real Kubernetes API. */
  kube: KubePort;
  gitops: {
    /** Allow file:// and local-path repositories (tests, single-machine setups); off by default. */
    allowLocalRepositories: boolean;
    /** How long a deployment waits for approval before it expires. */
    approvalTtlHours: number;
    /** Name and e-mail of the commits the platform makes. */
    identity: { name: string; email: string };
    /**
     * The real kustomize that verifies every deploy plan against what Flux would apply; null when none
     * was found (previews then say the change is not render-verified).
     */
    kustomize: KustomizeTool | null;
  };
}

/** What every domain function receives. Built once in the app's composition root. */
export interface Deps {
  db: Database;
  clock: Clock;
  logger: Logger;
  config: DomainConfig;
}

/** Who is acting, and from where (for the audit log). */
export interface Actor {
  user: { id: string; username: string; isPlatformAdmin: boolean };
  ip: string | null;
  userAgent: string | null;
}

/** A request that has no signed-in user yet (sign-in, setup, OAuth callback). */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}
