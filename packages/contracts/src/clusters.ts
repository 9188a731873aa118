import { z } from "zod";
import { descriptionSchema, nameSchema, uuidSchema } from "./common.ts";

/** A DNS-1123 label, as Kubernetes names namespaces: lowercase letters, digits and '-', at most 63. */
export const kubeNamespaceSchema = z
  .string()
  .trim()
  .max(63, { message: "must be at most 63 characters (a Kubernetes namespace name)" })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    message: "must be lowercase letters, digits and '-', starting and ending with a letter or digit",
  });

export const fluxVersionSchema = z
  .string()
  .trim()
  .regex(/^v?\d+\.\d+\.\d+$/, { message: "must be a Flux release version like 2.7.3" })
  .transform((v) => v.replace(/^v/, ""));

const mirrorUrlSchema = z
  .string()
  .trim()
  .max(500)
  .refine((v) => /^https?:\/\/[^\s]+$/.test(v) && v.includes("{version}"), {
    message:
      "must be an http(s) URL containing {version}, e.g. https://mirror.example.com/flux/v{version}/install.yaml",
  });

export const clusterConnectionInput = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("kubeconfig"),
    kubeconfig: z.string().min(1, { message: "is required" }).max(1_000_000, { message: "must be at most 1 MB" }),
    /** The kubeconfig context to use; its current-context when omitted. */
    context: z.string().trim().max(253).nullish(),
  }),
  z.object({ type: z.literal("in_cluster") }),
]);

export const registerClusterInput = z.object({
  organizationId: uuidSchema,
  name: nameSchema,
  description: descriptionSchema.nullish(),
  connection: clusterConnectionInput,
});

export const updateClusterInput = z.object({
  clusterId: uuidSchema,
  name: nameSchema.optional(),
  description: descriptionSchema.nullish(),
  /** Replaces the stored credentials (checked before it is saved). */
  connection: clusterConnectionInput.optional(),
  fluxMirrorUrl: mirrorUrlSchema.nullish(),
});

export const clusterRef = z.object({ clusterId: uuidSchema });

export const cluster = z.object({
  id: z.string(),
  organizationId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  connection: z.enum(["kubeconfig", "in_cluster"]),
  context: z.string().nullable(),
  server: z.string().nullable(),
  status: z.enum(["connected", "error", "unknown"]),
  statusReason: z.string().nullable(),
  statusMessage: z.string().nullable(),
  serverVersion: z.string().nullable(),
  nodes: z.object({ total: z.number(), ready: z.number() }).nullable(),
  simulated: z.boolean(),
  lastCheckedAt: z.string().nullable(),
  fluxNamespace: z.string(),
  fluxMirrorUrl: z.string().nullable(),
  watchState: z.string(),
  watchError: z.string().nullable(),
  environments: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      projectId: z.string(),
      projectName: z.string(),
      namespace: z.string(),
    }),
  ),
  createdAt: z.string(),
});
export type Cluster = z.infer<typeof cluster>;

export const fluxComponent = z.object({
  name: z.string(),
  present: z.boolean(),
  required: z.boolean(),
  ready: z.boolean(),
  replicas: z.number(),
  readyReplicas: z.number(),
  restarts: z.number(),
  version: z.string().nullable(),
  image: z.string().nullable(),
  conditions: z.array(
    z.object({
      type: z.string(),
      status: z.string(),
      reason: z.string().nullish(),
      message: z.string().nullish(),
    }),
  ),
});

export const fluxOperation = z.object({
  id: z.string(),
  action: z.enum(["install", "upgrade", "uninstall", "adopt"]),
  version: z.string().nullable(),
  source: z.string(),
  status: z.enum(["queued", "running", "succeeded", "failed"]),
  progress: z.array(
    z.object({ phase: z.string(), done: z.number(), total: z.number(), message: z.string(), at: z.string() }),
  ),
  error: z.string().nullable(),
  requestedBy: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  /** An earlier install/upgrade whose manifests are kept: the platform can go back to it. */
  restorable: z.boolean(),
});
export type FluxOperation = z.infer<typeof fluxOperation>;

/** Flux as read from the cluster now (never from a table), and the platform's own operations on it. */
export const fluxStatus = z.object({
  reachable: z.boolean(),
  error: z.string().nullable(),
  installed: z.boolean(),
  version: z.string().nullable(),
  namespace: z.string(),
  healthy: z.boolean(),
  managedBy: z.string(),
  operator: z.object({
    present: z.boolean(),
    instance: z
      .object({ name: z.string(), version: z.string().nullable(), ready: z.boolean(), message: z.string().nullable() })
      .nullable(),
  }),
  crds: z.array(z.object({ name: z.string(), established: z.boolean() })),
  components: z.array(fluxComponent),
  operations: z.array(fluxOperation),
  /** Whether a `flux` binary on the platform's host can produce the manifests. */
  fluxCli: z.boolean(),
});
export type FluxStatus = z.infer<typeof fluxStatus>;

export const installFluxInput = z.object({
  clusterId: uuidSchema,
  /** release: the official release manifests; mirror: the cluster's mirror URL; upload: the text given here; flux-cli; operator: a FluxInstance. */
  source: z.enum(["release", "mirror", "upload", "flux-cli", "operator"]),
  version: fluxVersionSchema.optional(),
  manifest: z.string().max(20_000_000, { message: "must be at most 20 MB" }).optional(),
});

export const uninstallFluxInput = z.object({
  clusterId: uuidSchema,
  /** The cluster's name, typed again: the uninstall deletes every Flux object. */
  confirmName: z.string(),
});

export const fluxUninstallPlan = z.object({
  items: z.array(
    z.object({ kind: z.string(), name: z.string(), namespace: z.string().nullish(), objects: z.number().optional() }),
  ),
});

export const gitopsRemovalPlan = z.object({
  applied: z.boolean(),
  prune: z.boolean(),
  cluster: z.string().optional(),
  fluxObjects: z.array(z.object({ kind: z.string(), namespace: z.string(), name: z.string() })).optional(),
  /** What the Kustomization applied: deleted with it when pruning is on. */
  objects: z.array(z.object({ kind: z.string(), namespace: z.string().nullable(), name: z.string() })),
});
