import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  inet,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const orgRole = pgEnum("org_role", ["admin", "member"]);
export const teamRole = pgEnum("team_role", ["owner", "maintainer", "member"]);
export const projectRole = pgEnum("project_role", ["owner", "maintainer", "developer", "viewer"]);
export const projectVisibility = pgEnum("project_visibility", ["public", "internal", "private"]);
export const projectStatus = pgEnum("project_status", ["initializing", "active", "archived", "suspended"]);
export const invitationStatus = pgEnum("invitation_status", ["pending", "accepted", "declined", "revoked"]);
export const auditResult = pgEnum("audit_result", ["success", "denied", "failed"]);
export const oauthProvider = pgEnum("oauth_provider", ["github", "gitlab"]);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    username: text("username").notNull(),
    displayName: text("display_name").notNull(),
    passwordHash: text("password_hash"),
    isPlatformAdmin: boolean("is_platform_admin").notNull().default(false),
    avatarUrl: text("avatar_url"),
    locale: text("locale"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_email_key").on(t.email), uniqueIndex("users_username_key").on(t.username)],
);

export const oauthAccounts = pgTable(
  "oauth_accounts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    provider: oauthProvider("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    providerLogin: text("provider_login"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("oauth_accounts_provider_account_key").on(t.provider, t.providerAccountId),
    uniqueIndex("oauth_accounts_user_provider_key").on(t.userId, t.provider),
  ],
);

/** Pending OAuth authorisations: state, PKCE verifier and what to do on return. */
export const oauthStates = pgTable("oauth_states", {
  state: text("state").primaryKey(),
  provider: oauthProvider("provider").notNull(),
  codeVerifier: text("code_verifier").notNull(),
  linkUserId: uuid("link_user_id").references(() => users.id, { onDelete: "cascade" }),
  returnTo: text("return_to"),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
});

/** Server-side sessions. The cookie carries a random token; only its SHA-256 is stored. */
export const sessions = pgTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const organizations = pgTable(
  "organizations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    displayName: text("display_name"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("organizations_slug_key").on(t.slug)],
);

export const organizationMembers = pgTable(
  "organization_members",
  {
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: orgRole("role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.userId] }), index("organization_members_user_idx").on(t.userId)],
);

export const invitations = pgTable(
  "invitations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** Invited by e-mail (may not have an account yet) … */
    email: text("email"),
    /** … or an existing user, by username or because the e-mail matched an account. */
    inviteeUserId: uuid("invitee_user_id").references(() => users.id, { onDelete: "cascade" }),
    role: orgRole("role").notNull(),
    tokenHash: text("token_hash").notNull(),
    status: invitationStatus("status").notNull().default("pending"),
    invitedById: uuid("invited_by_id").references(() => users.id, { onDelete: "set null" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    respondedAt: timestamp("responded_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("invitations_token_key").on(t.tokenHash),
    index("invitations_org_idx").on(t.organizationId),
    index("invitations_invitee_idx").on(t.inviteeUserId),
  ],
);

export const teams = pgTable(
  "teams",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("teams_org_slug_key").on(t.organizationId, t.slug)],
);

export const teamMembers = pgTable(
  "team_members",
  {
    teamId: uuid("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: teamRole("role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index("team_members_user_idx").on(t.userId)],
);

export const projects = pgTable(
  "projects",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    visibility: projectVisibility("visibility").notNull(),
    status: projectStatus("status").notNull().default("initializing"),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    /** Last deployment number given in this project (deployments are numbered #1, #2, … per project by a trigger). */
    deploymentSeq: integer("deployment_seq").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("projects_org_slug_key").on(t.organizationId, t.slug),
    index("projects_created_idx").on(t.createdAt, t.id),
    index("projects_org_created_idx").on(t.organizationId, t.createdAt, t.id),
  ],
);

export const projectMembers = pgTable(
  "project_members",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: projectRole("role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.userId] }), index("project_members_user_idx").on(t.userId)],
);

export const projectTeamGrants = pgTable(
  "project_team_grants",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    teamId: uuid("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    role: projectRole("role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.teamId] }), index("project_team_grants_team_idx").on(t.teamId)],
);

export const auditLogs = pgTable(
  "audit_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    createdAt: createdAt(),
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
    /** Username at the time, kept when the user is deleted. */
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id"),
    organizationId: uuid("organization_id").references(() => organizations.id, { onDelete: "set null" }),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "set null" }),
    changes: jsonb("changes").$type<{ before?: Record<string, unknown>; after?: Record<string, unknown> }>(),
    ip: inet("ip"),
    userAgent: text("user_agent"),
    result: auditResult("result").notNull(),
    reason: text("reason"),
  },
  // Lists are read newest first by id; ascending indexes serve that as backward scans.
  (t) => [
    index("audit_logs_org_idx").on(t.organizationId, t.id),
    index("audit_logs_org_action_idx").on(t.organizationId, t.action, t.id),
    index("audit_logs_actor_idx").on(t.actorId, t.id),
    index("audit_logs_action_idx").on(t.action, t.id),
    index("audit_logs_project_idx").on(t.projectId, t.id),
  ],
);

export const notifications = pgTable(
  "notifications",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    /** Structured data the UI renders in the user's language (never free text). */
    data: jsonb("data").$type<Record<string, string | number | null>>().notNull(),
    link: text("link"),
    readAt: timestamp("read_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("notifications_user_created_idx").on(t.userId, t.createdAt, t.id),
    index("notifications_user_unread_idx").on(t.userId).where(sql`${t.readAt} is null`),
  ],
);

/** A user who muted a project's notifications gets none of them (until unmuted). */
export const notificationMutes = pgTable(
  "notification_mutes",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.projectId] })],
);

/** Outgoing e-mail, written by jobs; kept so an admin can see what was (not) sent. */
export const emailOutbox = pgTable("email_outbox", {
  id: uuid("id").primaryKey().defaultRandom(),
  to: text("to").notNull(),
  subject: text("subject").notNull(),
  body: text("body").notNull(),
  status: text("status").notNull(),
  error: text("error"),
  createdAt: createdAt(),
  sentAt: timestamp("sent_at", { withTimezone: true }),
});

// ---------------------------------------------------------------------------
// Repositories, environments and deployments (GitOps)
// ---------------------------------------------------------------------------

export const repositoryProvider = pgEnum("repository_provider", ["github", "gitlab", "git"]);
/** `none`: a local `file://` repository (JUANIE_ALLOW_LOCAL_REPOSITORIES), which needs no credential. */
export const repositoryAuth = pgEnum("repository_auth", ["token", "ssh_key", "none"]);
export const environmentType = pgEnum("environment_type", ["development", "staging", "production", "testing"]);
export const environmentPermission = pgEnum("environment_permission", ["read", "deploy", "admin"]);
export const deploymentMethod = pgEnum("deployment_method", ["gitops-ui", "gitops-git", "manual", "rollback"]);
export const deploymentStrategy = pgEnum("deployment_strategy", ["rolling", "blue_green", "canary"]);

/** A Kubernetes cluster an organization deploys to. */
export const clusters = pgTable(
  "clusters",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    /** kubeconfig: a pasted kubeconfig (encrypted below); in_cluster: the platform's own service account. */
    connection: text("connection").$type<"kubeconfig" | "in_cluster">().notNull(),
    /** AES-256-GCM ciphertext of the kubeconfig; never returned, never written to disk in clear. */
    kubeconfig: text("kubeconfig"),
    context: text("context"),
    /** The API server URL (not secret), shown in the list. */
    server: text("server"),
    /** connected | error | unknown: the last connection check. */
    status: text("status").notNull().default("unknown"),
    statusReason: text("status_reason"),
    statusMessage: text("status_message"),
    serverVersion: text("server_version"),
    nodesTotal: integer("nodes_total"),
    nodesReady: integer("nodes_ready"),
    /** The API answered as the Juanie Kubernetes simulator (test tooling and demo aid). */
    simulated: boolean("simulated").notNull().default(false),
    lastCheckedAt: timestamp("last_checked_at", { withTimezone: true }),
    fluxNamespace: text("flux_namespace").notNull().default("flux-system"),
    /** A mirror of Flux's release manifests: a URL template with `{version}` (air-gapped networks). */
    fluxMirrorUrl: text("flux_mirror_url"),
    /** The live-status watch: connected | reconnecting | stopped, with the last error. */
    watchState: text("watch_state").notNull().default("stopped"),
    watchError: text("watch_error"),
    /** Last health seen by the periodic Flux check (healthy | unhealthy | absent), to notify on a change. */
    fluxHealth: text("flux_health"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("clusters_org_name_key").on(t.organizationId, t.name)],
);

/** Flux installs, upgrades and uninstalls run by the platform, with their progress and manifests (to go back to). */
export const fluxOperations = pgTable(
  "flux_operations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    clusterId: uuid("cluster_id")
      .notNull()
      .references(() => clusters.id, { onDelete: "cascade" }),
    action: text("action").$type<"install" | "upgrade" | "uninstall" | "adopt">().notNull(),
    version: text("version"),
    /** release | mirror | upload | flux-cli | operator | previous */
    source: text("source").notNull(),
    status: text("status").$type<"queued" | "running" | "succeeded" | "failed">().notNull().default("queued"),
    progress: jsonb("progress")
      .$type<{ phase: string; done: number; total: number; message: string; at: string }[]>()
      .notNull()
      .default([]),
    /** The manifests applied (install/upgrade), kept so an upgrade can be undone and an uninstall knows what to delete. */
    manifest: text("manifest"),
    error: text("error"),
    requestedById: uuid("requested_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("flux_operations_cluster_idx").on(t.clusterId, t.createdAt)],
);

/** Flux objects as last seen in a cluster (GitRepository, Kustomization, HelmRelease …), kept by the status watch. */
export const gitopsResources = pgTable(
  "gitops_resources",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    clusterId: uuid("cluster_id")
      .notNull()
      .references(() => clusters.id, { onDelete: "cascade" }),
    environmentId: uuid("environment_id").references(() => environments.id, { onDelete: "set null" }),
    apiVersion: text("api_version").notNull(),
    kind: text("kind").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    uid: text("uid"),
    /** ready | reconciling | failed | suspended | unknown */
    state: text("state").notNull(),
    reason: text("reason"),
    message: text("message"),
    artifactRevision: text("artifact_revision"),
    appliedRevision: text("applied_revision"),
    attemptedRevision: text("attempted_revision"),
    requestedAt: text("requested_at"),
    lastHandledReconcileAt: text("last_handled_reconcile_at"),
    lastReconcileAt: timestamp("last_reconcile_at", { withTimezone: true }),
    suspended: boolean("suspended").notNull().default(false),
    generation: integer("generation"),
    observedGeneration: integer("observed_generation"),
    history: jsonb("history").$type<Record<string, unknown>[]>(),
    inventoryCount: integer("inventory_count"),
    workloads: jsonb("workloads").$type<{ kind: string; name: string; ready: number; desired: number }[]>(),
    /** The whole state as the status reducer read it (what rollouts are judged on). */
    snapshot: jsonb("snapshot").$type<Record<string, unknown>>(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("gitops_resources_object_key").on(t.clusterId, t.kind, t.namespace, t.name),
    index("gitops_resources_environment_idx").on(t.environmentId),
  ],
);

export const repositories = pgTable(
  "repositories",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    provider: repositoryProvider("provider").notNull(),
    /** Clone URL exactly as the user gave it: never contains credentials. */
    url: text("url").notNull(),
    /** "owner/repo" or "group/sub/project" when known. */
    fullName: text("full_name"),
    webUrl: text("web_url"),
    /** Provider API base (https://api.github.com, https://gitlab.example.com) for metadata and webhooks. */
    apiUrl: text("api_url"),
    authType: repositoryAuth("auth_type").notNull(),
    /** Username for HTTPS basic auth (token as password). */
    username: text("username"),
    /** AES-256-GCM ciphertext of the token or private key. */
    credential: text("credential").notNull(),
    defaultBranch: text("default_branch").notNull().default("main"),
    /** Secret the provider signs webhooks with (encrypted); the webhook id when the platform registered it. */
    webhookSecret: text("webhook_secret").notNull(),
    webhookId: text("webhook_id"),
    syncStatus: text("sync_status").notNull().default("pending"),
    syncError: text("sync_error"),
    lastSyncedAt: timestamp("last_synced_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("repositories_project_url_key").on(t.projectId, t.url)],
);

export const environments = pgTable(
  "environments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    type: environmentType("type").notNull(),
    cloudProvider: text("cloud_provider"),
    region: text("region"),
    approvalRequired: boolean("approval_required").notNull().default(false),
    minApprovals: integer("min_approvals").notNull().default(1),
    gitopsEnabled: boolean("gitops_enabled").notNull().default(false),
    repositoryId: uuid("repository_id").references(() => repositories.id, { onDelete: "set null" }),
    branch: text("branch"),
    path: text("path"),
    /** A Go-style duration as Flux takes it: 30s, 1m, 5m, 1h. */
    syncInterval: text("sync_interval").notNull().default("5m"),
    autoSync: boolean("auto_sync").notNull().default(true),
    /** The cluster the environment runs in; its Flux objects and workloads live there. */
    clusterId: uuid("cluster_id").references(() => clusters.id, { onDelete: "set null" }),
    /** Namespace the workloads are applied into (the Kustomization's targetNamespace); default `<project>-<environment>`. */
    namespace: text("namespace"),
    /** Name of the GitRepository, Kustomization and Secret in the cluster's Flux namespace. */
    fluxName: text("flux_name"),
    prune: boolean("prune").notNull().default(true),
    /** How long Flux waits for the applied workloads to become healthy (Go duration). */
    reconcileTimeout: text("reconcile_timeout").notNull().default("5m"),
    /** Flux waits for every applied object to be ready (health checks) before reporting Ready. */
    waitForHealth: boolean("wait_for_health").notNull().default(true),
    /** Where the environment's Flux objects stand in the cluster: off | applying | applied | removing | error. */
    gitopsState: text("gitops_state").notNull().default("off"),
    gitopsError: text("gitops_error"),
    gitopsAppliedAt: timestamp("gitops_applied_at", { withTimezone: true }),
    /** Head of the branch when push detection last looked (fallback polling). */
    lastSeenSha: text("last_seen_sha"),
    lastPolledAt: timestamp("last_polled_at", { withTimezone: true }),
    /** Place in the project's promotion order (development → staging → production by default); lower comes first. */
    position: integer("position").notNull().default(0),
    /**
     * The project's deployment number (#n) up to which a maintainer acknowledged the commits that reached this
     * gated environment without its approvals: the warning lists those recorded after it. A number, not a
     * time: a pushed commit's date is its author's, not when the platform saw it.
     */
    bypassAcknowledgedThrough: integer("bypass_acknowledged_through").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("environments_project_name_key").on(t.projectId, t.name)],
);

export const environmentGrants = pgTable(
  "environment_grants",
  {
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id, { onDelete: "cascade" }),
    subjectType: text("subject_type").$type<"user" | "team">().notNull(),
    subjectId: uuid("subject_id").notNull(),
    permission: environmentPermission("permission").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.environmentId, t.subjectType, t.subjectId] })],
);

export const deployments = pgTable(
  "deployments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** #1, #2, … per project, given on insert by the `deployments_number` trigger (projects.deployment_seq). */
    number: integer("number").notNull().default(0),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id, { onDelete: "cascade" }),
    repositoryId: uuid("repository_id").references(() => repositories.id, { onDelete: "set null" }),
    method: deploymentMethod("method").notNull(),
    status: text("status").notNull(),
    /** What was asked for: the deploy form's values (gitops-ui), version/strategy (manual). */
    request: jsonb("request").$type<Record<string, unknown>>().notNull().default({}),
    /** Field-level change and the unified diff as previewed/committed. */
    fields: jsonb("fields").$type<{ field: string; before: unknown; after: unknown }[]>(),
    diff: text("diff"),
    version: text("version"),
    strategy: deploymentStrategy("strategy"),
    branch: text("branch"),
    path: text("path"),
    /** Branch head the change was previewed on; the commit made (or observed). */
    baseSha: text("base_sha"),
    commitSha: text("commit_sha"),
    /**
     * Every commit the platform was about to push for this deployment, recorded before each push: after a
     * crash (or a push whose answer was lost) the branch is checked for them to tell "pushed" from "not".
     */
    pushShas: text("push_shas").array().notNull().default(sql`'{}'::text[]`),
    commitMessage: text("commit_message"),
    commitAuthorName: text("commit_author_name"),
    commitAuthorEmail: text("commit_author_email"),
    requestedById: uuid("requested_by_id").references(() => users.id, { onDelete: "set null" }),
    /** For rollbacks: the deployment whose tree is restored. */
    rollbackOfId: uuid("rollback_of_id"),
    /** For promotions: the deployment (in another environment of the project) whose values were promoted. */
    promotedFromId: uuid("promoted_from_id"),
    /**
     * A commit that reached a gated environment's branch without passing the platform's approval (a `git push`,
     * a merge at the Git host): recorded, shown with a warning and notified, never silently accepted.
     */
    bypassedApproval: boolean("bypassed_approval").notNull().default(false),
    /** The cluster side, as Flux reported it: when the source fetched, the Kustomization applied, the workloads became healthy. */
    fetchedAt: timestamp("fetched_at", { withTimezone: true }),
    appliedAt: timestamp("applied_at", { withTimezone: true }),
    healthyAt: timestamp("healthy_at", { withTimezone: true }),
    /** Flux's reason and message when the rollout failed (or the newer revision that superseded it). */
    rolloutReason: text("rollout_reason"),
    rolloutMessage: text("rollout_message"),
    /** Ready pods over desired, per workload, as last seen. */
    workloads: jsonb("workloads").$type<{ kind: string; name: string; ready: number; desired: number }[]>(),
    error: text("error"),
    conflict: jsonb("conflict").$type<{ field: string; base: unknown; theirs: unknown; ours: unknown }[]>(),
    approvalExpiresAt: timestamp("approval_expires_at", { withTimezone: true }),
    /**
     * Approvals this request needs, by the environment's rule when it was requested (null: none were
     * required): a later change of the rule neither releases nor blocks it.
     */
    requiredApprovals: integer("required_approvals"),
    createdAt: createdAt(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("deployments_project_created_idx").on(t.projectId, t.createdAt, t.id),
    uniqueIndex("deployments_project_number_key").on(t.projectId, t.number),
    index("deployments_env_created_idx").on(t.environmentId, t.createdAt, t.id),
    index("deployments_created_idx").on(t.createdAt, t.id),
    // One deployment per commit per environment: pushes are recorded once, the platform's own commits too.
    uniqueIndex("deployments_env_commit_key").on(t.environmentId, t.commitSha).where(sql`${t.commitSha} is not null`),
  ],
);

export const deploymentApprovals = pgTable(
  "deployment_approvals",
  {
    deploymentId: uuid("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    decision: text("decision").$type<"approved" | "rejected">().notNull(),
    comment: text("comment"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.userId] })],
);

/** Every status transition of a deployment, for its timeline. */
export const deploymentEvents = pgTable(
  "deployment_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deploymentId: uuid("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    message: text("message"),
    createdAt: createdAt(),
  },
  (t) => [index("deployment_events_deployment_idx").on(t.deploymentId, t.id)],
);

/** Webhook deliveries already handled (idempotency per delivery id). */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    provider: text("provider").notNull(),
    deliveryId: text("delivery_id").notNull(),
    repositoryId: uuid("repository_id").references(() => repositories.id, { onDelete: "cascade" }),
    result: text("result").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.deliveryId] })],
);

/**
 * Processes running the job worker, with their graphile-worker ids and a heartbeat: jobs (and named
 * queues) locked by a worker whose process stopped beating are released (see the server's liveness sweep).
 */
export const workerInstances = pgTable("worker_instances", {
  id: uuid("id").primaryKey(),
  /** Host, boot and PID namespace: on the same one, a process that no longer exists is known dead at once. */
  hostKey: text("host_key").notNull(),
  pid: integer("pid").notNull(),
  workerIds: text("worker_ids").array().notNull().default(sql`'{}'::text[]`),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});
