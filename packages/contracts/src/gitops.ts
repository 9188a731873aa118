import { z } from "zod";
import { userSummary } from "./api.ts";
import { kubeNamespaceSchema } from "./clusters.ts";
import { cursorSchema, limitSchema, nameSchema, page, uuidSchema } from "./common.ts";

// ---------- repositories ----------

export const repositoryProviders = ["github", "gitlab", "git"] as const;
export const repositoryProviderSchema = z.enum(repositoryProviders);

/** A token or a deploy key: what a repository on a Git host needs (and what can be replaced later). */
export const repositoryCredentialInput = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("token"),
    token: z.string().trim().min(1, { message: "is required" }).max(500, { message: "must be at most 500 characters" }),
    username: z.string().trim().max(100).optional(),
  }),
  z.object({
    type: z.literal("ssh_key"),
    privateKey: z
      .string()
      .min(1, { message: "is required" })
      .max(20_000, { message: "is too long" })
      .refine((k) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), {
        message: "must be a private key in OpenSSH or PEM format",
      }),
    knownHosts: z.string().max(20_000).optional(),
  }),
]);

export const connectRepositoryInput = z.object({
  projectId: uuidSchema,
  provider: repositoryProviderSchema,
  url: z.string().trim().min(1, { message: "is required" }).max(500, { message: "must be at most 500 characters" }),
  /** Provider API base for self-hosted GitHub Enterprise / GitLab; defaults from the provider. */
  apiUrl: z.url({ message: "must be an absolute URL" }).max(500).optional(),
  /** `none`: only for a local `file://` repository, on a server that allows them. */
  credential: z.union([repositoryCredentialInput, z.object({ type: z.literal("none") })]),
  registerWebhook: z.boolean().default(false),
});

export const createRepositoryInput = z.object({
  projectId: uuidSchema,
  provider: z.enum(["github", "gitlab"]),
  apiUrl: z.url({ message: "must be an absolute URL" }).max(500).optional(),
  token: z.string().trim().min(1, { message: "is required" }).max(500),
  namespace: z.string().trim().max(200).optional(),
  name: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, { message: "may contain letters, digits, '.', '_' and '-'" }),
  private: z.boolean().default(true),
  image: z.string().trim().min(1).max(300),
  port: z.number().int().min(1).max(65535).default(8080),
});

export const initializeLayoutInput = z.object({
  repositoryId: uuidSchema,
  image: z.string().trim().min(1, { message: "is required" }).max(300),
  port: z.number().int().min(1).max(65535).default(8080),
});

export const repository = z.object({
  id: z.string(),
  projectId: z.string(),
  provider: repositoryProviderSchema,
  url: z.string(),
  fullName: z.string().nullable(),
  webUrl: z.string().nullable(),
  authType: z.enum(["token", "ssh_key", "none"]),
  defaultBranch: z.string(),
  webhookRegistered: z.boolean(),
  /** Where the Git host should send push events (shown so it can be configured by hand). */
  webhookUrl: z.string(),
  syncStatus: z.string(),
  syncError: z.string().nullable(),
  lastSyncedAt: z.string().nullable(),
  createdAt: z.string(),
});
export type Repository = z.infer<typeof repository>;

export const repositoryRef = z.object({ repositoryId: uuidSchema });
/** Revealed on request to those who manage the repository, for a webhook added by hand at the Git host. */
export const webhookSecret = z.object({ webhookUrl: z.string(), secret: z.string() });
export const repositoryDetails = z.object({
  repository,
  branches: z.array(z.object({ name: z.string(), sha: z.string() })),
  commits: z.array(
    z.object({
      sha: z.string(),
      subject: z.string(),
      authorName: z.string(),
      authoredAt: z.string(),
      url: z.string().nullable(),
    }),
  ),
});

// ---------- environments ----------

export const environmentTypes = ["development", "staging", "production", "testing"] as const;
export const environmentTypeSchema = z.enum(environmentTypes);
export const environmentPermissionSchema = z.enum(["read", "deploy", "admin"]);

/** A Go duration as Flux takes it (30s, 1m, 1h30m), between 10 seconds and 24 hours. */
export const durationSchema = z
  .string()
  .trim()
  .regex(/^(\d+(ms|s|m|h))+$/, { message: "must be a duration like 30s, 5m or 1h" })
  .refine(
    (v) => {
      const ms = parseDuration(v);
      return ms >= 10_000 && ms <= 86_400_000;
    },
    { message: "must be between 10s and 24h" },
  );

export function parseDuration(v: string): number {
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  let total = 0;
  for (const m of v.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2] as keyof typeof unit];
  return total;
}

export const gitopsSettings = z.object({
  enabled: z.boolean(),
  repositoryId: uuidSchema.nullable(),
  branch: z.string().trim().max(200).nullable(),
  path: z.string().trim().max(500).nullable(),
  syncInterval: durationSchema,
  autoSync: z.boolean(),
  /** The cluster Flux runs in (an organization cluster); null: the environment is only recorded from Git. */
  clusterId: uuidSchema.nullable().default(null),
  /** Where the workloads go; `<project>-<environment>` when empty. Created if missing. */
  namespace: kubeNamespaceSchema.nullable().default(null),
  /** Flux deletes what was removed from Git. */
  prune: z.boolean().default(true),
  /** How long Flux waits for the workloads to become healthy. */
  timeout: durationSchema.default("5m"),
  /** Flux reports Ready only when the applied workloads are ready (health checks). */
  wait: z.boolean().default(true),
});
export type GitopsSettings = z.infer<typeof gitopsSettings>;

const environmentFields = {
  name: nameSchema,
  type: environmentTypeSchema,
  cloudProvider: z.enum(["aws", "gcp", "azure", "aliyun", "tencent", "on-premises"]).nullable().default(null),
  region: z.string().trim().max(100).nullable().default(null),
  approvalRequired: z.boolean().default(false),
  minApprovals: z.number().int().min(1, { message: "must be at least 1" }).max(10).default(1),
  gitops: gitopsSettings,
};

export const createEnvironmentInput = z.object({ projectId: uuidSchema, ...environmentFields });
export const updateEnvironmentInput = z.object({
  environmentId: uuidSchema,
  ...environmentFields,
  /** Required when the change removes the environment's Flux objects from a cluster (after the UI showed what goes). */
  confirmGitopsRemoval: z.boolean().optional(),
});
export const environmentRef = z.object({ environmentId: uuidSchema });

export const environmentGrant = z.object({
  subjectType: z.enum(["user", "team"]),
  subjectId: z.string(),
  label: z.string(),
  permission: environmentPermissionSchema,
});
export const setEnvironmentGrantsInput = z.object({
  environmentId: uuidSchema,
  grants: z
    .array(
      z.object({
        subjectType: z.enum(["user", "team"]),
        subjectId: uuidSchema,
        permission: environmentPermissionSchema,
      }),
    )
    .max(100),
});

export const environment = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  type: environmentTypeSchema,
  /** Place in the project's promotion order, 0 first. */
  position: z.number(),
  cloudProvider: z.string().nullable(),
  region: z.string().nullable(),
  approvalRequired: z.boolean(),
  minApprovals: z.number(),
  gitops: gitopsSettings,
  grants: z.array(environmentGrant),
  myPermission: environmentPermissionSchema.nullable(),
  /** The cluster it runs in and what Flux says about it there, live. */
  cluster: z
    .object({
      id: z.string(),
      name: z.string(),
      simulated: z.boolean(),
      status: z.string(),
      namespace: z.string(),
      fluxName: z.string(),
      fluxNamespace: z.string(),
      /** off | applying | applied | removing | error: the platform's Flux objects in the cluster. */
      gitopsState: z.string(),
      gitopsError: z.string().nullable(),
    })
    .nullable(),
  flux: z
    .object({
      state: z.string(),
      reason: z.string().nullable(),
      message: z.string().nullable(),
      appliedRevision: z.string().nullable(),
      artifactRevision: z.string().nullable(),
      lastReconcileAt: z.string().nullable(),
      suspended: z.boolean(),
      /** A sync asked for and not yet handled by Flux. */
      syncPending: z.boolean(),
      workloads: z.array(z.object({ kind: z.string(), name: z.string(), ready: z.number(), desired: z.number() })),
    })
    .nullable(),
  lastDeployment: z
    .object({
      id: z.string(),
      /** #n in the project. */
      number: z.number(),
      status: z.string(),
      commitSha: z.string().nullable(),
      createdAt: z.string(),
    })
    .nullable(),
  /**
   * Commits that reached this environment without its approvals since a maintainer last acknowledged them
   * (null when there are none): how many, and the newest, with its author as Git names them.
   */
  /** The newest deployment that reached Git (what the environment runs); a promotion links it as its source. */
  landedDeployment: z.object({ id: z.string(), number: z.number() }).nullable(),
  bypass: z
    .object({
      count: z.number(),
      latest: z.object({
        id: z.string(),
        number: z.number(),
        commitSha: z.string().nullable(),
        author: z.string().nullable(),
        createdAt: z.string(),
      }),
    })
    .nullable(),
  createdAt: z.string(),
});
export type Environment = z.infer<typeof environment>;

export const reorderEnvironmentsInput = z.object({
  projectId: uuidSchema,
  order: z.array(uuidSchema).min(1).max(100),
});

/** Whether the Git host protects an environment's branch, as far as the repository's credential can tell. */
export const branchProtection = z.object({
  provider: z.enum(["github", "gitlab", "git"]),
  branch: z.string().nullable(),
  /** protected / unprotected: the host's API said so; unknown: no API, no token, or the API refused (reason). */
  status: z.enum(["protected", "unprotected", "unknown"]),
  reason: z.string().nullable(),
  /** Where the host's branch protection settings are, when known. */
  settingsUrl: z.string().nullable(),
});
export type BranchProtection = z.infer<typeof branchProtection>;

/** The seeds' suggested environments for a new project. */
export const suggestedEnvironments = [
  {
    name: "development",
    type: "development",
    branch: "develop",
    path: "k8s/overlays/development",
    syncInterval: "1m",
    autoSync: true,
    approvalRequired: false,
    minApprovals: 1,
  },
  {
    name: "staging",
    type: "staging",
    branch: "staging",
    path: "k8s/overlays/staging",
    syncInterval: "5m",
    autoSync: true,
    approvalRequired: false,
    minApprovals: 1,
  },
  {
    name: "production",
    type: "production",
    branch: "main",
    path: "k8s/overlays/production",
    syncInterval: "10m",
    autoSync: false,
    approvalRequired: true,
    minApprovals: 2,
  },
] as const;

export const suggestedEnvironmentNames = ["development", "staging", "production"] as const;

/**
 * What checking a suggestion against the repository found: `verified` (its branch exists and its path
 * holds a kustomization or Kubernetes manifests), `missing-branch`, `missing-path`, `no-manifests` (the
 * path holds files, none of them a kustomization or a Kubernetes object), `unknown` (the repository could
 * not be read: `reason` says why).
 */
export const suggestionCheckStatuses = [
  "verified",
  "missing-branch",
  "missing-path",
  "no-manifests",
  "unknown",
] as const;
export type SuggestionCheckStatus = (typeof suggestionCheckStatuses)[number];

export const suggestionCheck = z.object({
  name: z.enum(suggestedEnvironmentNames),
  branch: z.string(),
  path: z.string(),
  status: z.enum(suggestionCheckStatuses),
  /** verified: what was found, a kustomization or (without one) plain manifests. */
  found: z.enum(["kustomization", "manifests"]).nullable(),
  /** verified: the kustomization file, or the first manifest. */
  file: z.string().nullable(),
  /** no-manifests: how many files the path holds (none of them usable). */
  fileCount: z.number().int(),
  /** unknown: why the repository could not be read. */
  reason: z.string().nullable(),
});
export type SuggestionCheck = z.infer<typeof suggestionCheck>;

export const suggestionChecks = z.object({
  repositoryId: uuidSchema,
  /** The branch a missing branch can be created from (the remote's HEAD, else the repository's setting). */
  defaultBranch: z.string().nullable(),
  checks: z.array(suggestionCheck),
});
export type SuggestionChecks = z.infer<typeof suggestionChecks>;

export const checkSuggestedEnvironmentsInput = z.object({ projectId: uuidSchema, repositoryId: uuidSchema });

/** Creates a suggestion's missing branch from the default branch's head, then checks the suggestions again. */
export const createSuggestedBranchInput = z.object({
  projectId: uuidSchema,
  repositoryId: uuidSchema,
  name: z.enum(suggestedEnvironmentNames),
});

export const createSuggestedEnvironmentsInput = z.object({
  projectId: uuidSchema,
  repositoryId: uuidSchema.nullable(),
  /** Suggestions the user chose to keep although their check did not pass: recorded in the audit log. */
  unchecked: z.array(z.enum(suggestedEnvironmentNames)).max(3).default([]),
});

// ---------- deployments ----------

export const deploymentMethods = ["gitops-ui", "gitops-git", "manual", "rollback"] as const;
export const deploymentMethodSchema = z.enum(deploymentMethods);
export const deploymentStatusValues = [
  "pending",
  "awaiting_approval",
  "queued",
  "committing",
  "committed",
  "fetched",
  "applied",
  "healthy",
  "superseded",
  "running",
  "succeeded",
  "rejected",
  "expired",
  "cancelled",
  "failed",
  "rolled_back",
] as const;
export const deploymentStatusSchema = z.enum(deploymentStatusValues);

export const fieldChange = z.object({ field: z.string(), before: z.unknown(), after: z.unknown() });
export const conflictEntry = z.object({ field: z.string(), base: z.unknown(), theirs: z.unknown(), ours: z.unknown() });

export const deploymentSummary = z.object({
  id: z.string(),
  /** #1, #2, … in its project. */
  number: z.number(),
  projectId: z.string(),
  project: z.object({ id: z.string(), name: z.string(), slug: z.string(), organizationSlug: z.string() }),
  environment: z.object({ id: z.string(), name: z.string(), type: environmentTypeSchema }),
  method: deploymentMethodSchema,
  status: deploymentStatusSchema,
  version: z.string().nullable(),
  branch: z.string().nullable(),
  commitSha: z.string().nullable(),
  commitMessage: z.string().nullable(),
  commitUrl: z.string().nullable(),
  author: z.string().nullable(),
  requestedBy: userSummary.nullable(),
  rollbackOfId: z.string().nullable(),
  /** The deployment of an earlier environment this one promoted ("Promote to …"). */
  promotedFromId: z.string().nullable(),
  /** A commit that reached a gated environment without its approvals (a push, a merge at the Git host). */
  bypassedApproval: z.boolean(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type DeploymentSummary = z.infer<typeof deploymentSummary>;

export const deploymentDetail = deploymentSummary.extend({
  request: z.record(z.string(), z.unknown()),
  fields: z.array(fieldChange).nullable(),
  diff: z.string().nullable(),
  path: z.string().nullable(),
  baseSha: z.string().nullable(),
  strategy: z.enum(["rolling", "blue_green", "canary"]).nullable(),
  error: z.string().nullable(),
  conflict: z.array(conflictEntry).nullable(),
  approvalExpiresAt: z.string().nullable(),
  minApprovals: z.number(),
  approvals: z.array(
    z.object({
      user: userSummary,
      decision: z.enum(["approved", "rejected"]),
      comment: z.string().nullable(),
      at: z.string(),
    }),
  ),
  events: z.array(
    z.object({ from: z.string().nullable(), to: z.string(), message: z.string().nullable(), at: z.string() }),
  ),
  /**
   * A waiting request that can no longer reach its quorum (members left or lost the permission): approvals
   * still needed, approvals still possible, and the names of who could still approve. Null otherwise.
   */
  approvalBlocked: z.object({ needed: z.number(), possible: z.number(), approvers: z.array(z.string()) }).nullable(),
  /** Approved "break glass" by an organization admin, regardless of the quorum: by whom, why, when. */
  breakGlass: z.object({ by: z.string(), reason: z.string(), at: z.string() }).nullable(),
  /** The source of a promotion: its number and environment, for the link. */
  promotedFrom: z.object({ id: z.string(), number: z.number(), environmentName: z.string() }).nullable(),
  /** The rule the environment has now, when it differs from the one this request keeps (its snapshot). */
  currentMinApprovals: z.number().nullable(),
  canApprove: z.boolean(),
  /** The caller is an organization admin and may approve "break glass", with a reason. */
  canBreakGlass: z.boolean(),
  canCancel: z.boolean(),
  /** Cancelled, rejected or expired, and the caller may deploy: the same change can be requested again. */
  canRequestAgain: z.boolean(),
  /** Stuck in queued or committing, and the caller administers the environment: the commit can be retried. */
  canRetry: z.boolean(),
  canRollBack: z.boolean(),
  durationMs: z.number().nullable(),
  /**
   * The cluster side, when the environment runs in a cluster: Git commit → Flux fetched → applied →
   * healthy, as Flux reported them (null when the environment is not bound to a cluster).
   */
  rollout: z
    .object({
      cluster: z.object({ id: z.string(), name: z.string(), simulated: z.boolean() }),
      namespace: z.string(),
      committedAt: z.string().nullable(),
      fetchedAt: z.string().nullable(),
      appliedAt: z.string().nullable(),
      healthyAt: z.string().nullable(),
      /** Flux's reason and message (failed), or what superseded it. */
      reason: z.string().nullable(),
      message: z.string().nullable(),
      workloads: z.array(z.object({ kind: z.string(), name: z.string(), ready: z.number(), desired: z.number() })),
    })
    .nullable(),
});
export type DeploymentDetail = z.infer<typeof deploymentDetail>;

export const listDeploymentsInput = z.object({
  projectId: uuidSchema.optional(),
  environmentId: uuidSchema.optional(),
  status: deploymentStatusSchema.optional(),
  method: deploymentMethodSchema.optional(),
  from: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
  to: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
  cursor: cursorSchema,
  limit: limitSchema,
});
export const deploymentsPage = page(deploymentSummary);
export const deploymentRef = z.object({ deploymentId: uuidSchema });

export const manualDeploymentInput = z.object({
  environmentId: uuidSchema,
  version: z.string().trim().min(1, { message: "is required" }).max(100),
  commitSha: z
    .string()
    .trim()
    .regex(/^[0-9a-f]{7,40}$/, { message: "must be a commit SHA (7–40 hexadecimal characters)" })
    .optional(),
  branch: z.string().trim().max(200).optional(),
  strategy: z.enum(["rolling", "blue_green", "canary"]).default("rolling"),
});
export const manualStatusInput = z.object({
  deploymentId: uuidSchema,
  event: z.enum(["start", "succeed", "fail", "cancel"]),
  message: z.string().trim().max(1000).optional(),
});
export const approvalInput = z.object({
  deploymentId: uuidSchema,
  comment: z.string().trim().max(2000).optional(),
});
export const rejectionInput = z.object({
  deploymentId: uuidSchema,
  comment: z.string().trim().min(1, { message: "is required: say why" }).max(2000),
});
export const breakGlassInput = z.object({
  deploymentId: uuidSchema,
  reason: z
    .string()
    .trim()
    .min(1, { message: "is required: say why the approval cannot wait" })
    .max(2000, { message: "must be at most 2000 characters" }),
});
/** What a rollback to a deployment would undo: shown in the rollback dialog before confirming. */
export const rollbackPreview = z.object({
  target: z.object({ id: z.string(), number: z.number(), commitSha: z.string(), createdAt: z.string() }),
  environmentName: z.string(),
  branch: z.string(),
  path: z.string(),
  /** The branch head the preview was made on. */
  head: z.string(),
  /** The environment's files are already as they were at the target. */
  nothingToUndo: z.boolean(),
  /** Deployments made in the environment since the target, newest first: what the rollback supersedes. */
  deployments: z.array(
    z.object({
      id: z.string(),
      number: z.number(),
      method: deploymentMethodSchema,
      status: deploymentStatusSchema,
      /** Committed to Git (and what the rollback undoes), rather than still waiting or failed. */
      landed: z.boolean(),
      author: z.string().nullable(),
      requestedBy: userSummary.nullable(),
      createdAt: z.string(),
      commitSha: z.string().nullable(),
      commitMessage: z.string().nullable(),
      version: z.string().nullable(),
      fields: z.array(fieldChange),
      bypassedApproval: z.boolean(),
    }),
  ),
  moreDeployments: z.boolean(),
  /** Commits on the environment's path since the target's commit, newest first (pushes included). */
  commits: z.array(
    z.object({
      sha: z.string(),
      subject: z.string(),
      author: z.string(),
      committedAt: z.string(),
      deploymentNumber: z.number().nullable(),
    }),
  ),
  moreCommits: z.boolean(),
  changedFiles: z.array(z.string()),
  /** The rollback commit's file changes. */
  diff: z.string(),
  /** The environment as kustomize renders it now and after the rollback. */
  render: z.discriminatedUnion("verified", [
    z.object({ verified: z.literal(true), tool: z.string(), diff: z.string(), changes: z.array(fieldChange) }),
    z.object({ verified: z.literal(false), reason: z.string() }),
  ]),
});
export type RollbackPreview = z.infer<typeof rollbackPreview>;

export const rollbackInput = z.object({
  deploymentId: uuidSchema,
  message: z.string().trim().max(2000).optional(),
});
