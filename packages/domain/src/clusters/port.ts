/**
 * The port through which the domain reaches Kubernetes clusters (as it reaches Git through the Git engine).
 * The server wires it to `@juanie/kube`, which speaks only the real Kubernetes API. Connections are given as
 * access values: the kubeconfig is decrypted just for the call and never leaves memory.
 */

export type ClusterAccess = { kind: "kubeconfig"; kubeconfig: string; context: string | null } | { kind: "in-cluster" };

export interface KubeconfigSummary {
  context: string;
  server: string;
  namespace: string | null;
  authType: string;
}

/** What a kubeconfig was refused for, on which field of the form. */
export class KubeconfigRejected extends Error {
  constructor(
    readonly field: "kubeconfig" | "context",
    message: string,
  ) {
    super(message);
  }
}

export type KubeFailureReason =
  | "unreachable"
  | "timeout"
  | "tls"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "invalid"
  | "gone"
  | "server";

/** A call to the cluster failed; `message` says why in words a person can act on (never a secret). */
export class KubeCallError extends Error {
  constructor(
    readonly reason: KubeFailureReason,
    message: string,
  ) {
    super(message);
  }
}

export interface ClusterCheckResult {
  gitVersion: string;
  platform: string | null;
  simulated: boolean;
  nodes: { total: number; ready: number };
}

export interface FluxComponent {
  name: string;
  present: boolean;
  required: boolean;
  ready: boolean;
  replicas: number;
  readyReplicas: number;
  restarts: number;
  version: string | null;
  image: string | null;
  conditions: { type: string; status: string; reason?: string | null; message?: string | null }[];
}

export interface FluxDetection {
  installed: boolean;
  version: string | null;
  namespace: string;
  crds: { name: string; established: boolean }[];
  operator: {
    present: boolean;
    instance: { name: string; version: string | null; ready: boolean; message: string | null } | null;
  };
  components: FluxComponent[];
  healthy: boolean;
  managedBy: string;
}

export type FluxManifestSource =
  | { kind: "release"; version: string }
  | { kind: "mirror"; url: string; version: string }
  | { kind: "upload"; text: string }
  | { kind: "flux-cli"; version: string };

export interface FluxProgress {
  phase: string;
  done: number;
  total: number;
  message: string;
}

export interface FluxUninstallPlan {
  /** Kind/name lines a person reads before confirming, e.g. "CustomResourceDefinition kustomizations… (3 objects)". */
  items: { kind: string; name: string; namespace?: string | null; objects?: number }[];
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** The environment's Flux objects, as typed values the adapter builds (never text templates). */
export interface GitOpsObjectsInput {
  name: string;
  fluxNamespace: string;
  targetNamespace: string;
  url: string;
  branch: string;
  path: string;
  interval: string;
  timeout: string;
  prune: boolean;
  wait: boolean;
  suspend: boolean;
  credential:
    | { type: "basic"; username: string; password: string }
    | { type: "ssh"; identity: string; knownHosts: string }
    | { type: "none" };
}

export interface KubePort {
  /** Whether kubeconfigs with `exec` credential plugins are allowed (an administrator's setting). */
  readonly allowExec: boolean;
  /** Whether the platform itself runs inside a cluster (its service account can be used). */
  inClusterAvailable(): boolean;
  /** Throws KubeconfigRejected. */
  parseKubeconfig(text: string, context: string | null): KubeconfigSummary;
  check(access: ClusterAccess): Promise<ClusterCheckResult>;
  detectFlux(access: ClusterAccess, namespace: string): Promise<FluxDetection>;
  /** The install manifests of a Flux version; throws KubeCallError("unreachable" | "invalid", …). */
  loadFluxManifest(source: FluxManifestSource): Promise<string>;
  /** The path of a `flux` binary on the platform's host, or null. */
  fluxCli(): Promise<string | null>;
  planFluxUninstall(access: ClusterAccess, manifest: string, namespace: string): Promise<FluxUninstallPlan>;
  installFlux(access: ClusterAccess, manifest: string, onProgress: (p: FluxProgress) => void): Promise<void>;
  uninstallFlux(
    access: ClusterAccess,
    manifest: string,
    namespace: string,
    onProgress: (p: FluxProgress) => void,
  ): Promise<void>;
  /** Through the Flux Operator: applies the FluxInstance. */
  applyFluxInstance(access: ClusterAccess, input: { version: string; namespace: string }): Promise<void>;
  ensureNamespace(access: ClusterAccess, name: string): Promise<void>;
  applyGitOps(access: ClusterAccess, input: GitOpsObjectsInput): Promise<void>;
  removeGitOps(access: ClusterAccess, input: Pick<GitOpsObjectsInput, "name" | "fluxNamespace">): Promise<void>;
  /** What the environment's Kustomization applied (its inventory): what pruning deletes with it. */
  gitOpsInventory(
    access: ClusterAccess,
    input: Pick<GitOpsObjectsInput, "name" | "fluxNamespace">,
  ): Promise<{ kind: string; namespace: string | null; name: string }[]>;
  /** Writes `reconcile.fluxcd.io/requestedAt`; returns the token Flux echoes in `lastHandledReconcileAt`. */
  requestReconcile(access: ClusterAccess, ref: ObjectRef, withSource: boolean): Promise<string>;
  setSuspended(access: ClusterAccess, ref: ObjectRef, suspended: boolean): Promise<string | null>;
}
