import { type Environment, suggestedEnvironments } from "@juanie/contracts";
import { type CloudProvider, isCloudProvider } from "./environmentVocabulary.ts";

type EnvironmentType = Environment["type"];

export interface EnvironmentForm {
  name: string;
  type: EnvironmentType;
  /** "" = not set. */
  cloudProvider: CloudProvider | "";
  region: string;
  approvalRequired: boolean;
  minApprovals: string;
  gitops: {
    enabled: boolean;
    /** "" = none. */
    repositoryId: string;
    branch: string;
    path: string;
    syncInterval: string;
    autoSync: boolean;
    /** "" = no cluster: deployments are recorded from Git only. */
    clusterId: string;
    /** "" = `<project>-<environment>`. */
    namespace: string;
    prune: boolean;
    timeout: string;
    wait: boolean;
  };
}

/** The GitOps defaults the seeds suggest for a type (development: develop / 1m / auto …). */
export function suggestionFor(type: EnvironmentType) {
  return suggestedEnvironments.find((s) => s.type === type) ?? null;
}

export function newEnvironmentForm(repositoryId: string | null): EnvironmentForm {
  const form: EnvironmentForm = {
    name: "",
    type: "development",
    cloudProvider: "",
    region: "",
    approvalRequired: false,
    minApprovals: "1",
    gitops: {
      enabled: repositoryId !== null,
      repositoryId: repositoryId ?? "",
      branch: "",
      path: "",
      syncInterval: "5m",
      autoSync: true,
      clusterId: "",
      namespace: "",
      prune: true,
      timeout: "5m",
      wait: true,
    },
  };
  applySuggestion(form, "development", null);
  return form;
}

/**
 * Fills the type's suggested settings into the fields that still hold the previous type's
 * suggestion (or nothing): what the user typed stays.
 */
export function applySuggestion(form: EnvironmentForm, type: EnvironmentType, previous: EnvironmentType | null): void {
  const next = suggestionFor(type);
  if (!next) return;
  const before = previous ? suggestionFor(previous) : null;
  const untouched = (value: string, old: string | undefined) => value === "" || value === old;
  if (untouched(form.gitops.branch, before?.branch)) form.gitops.branch = next.branch;
  if (untouched(form.gitops.path, before?.path)) form.gitops.path = next.path;
  if (!before || form.gitops.syncInterval === before.syncInterval) form.gitops.syncInterval = next.syncInterval;
  if (!before || form.gitops.autoSync === before.autoSync) form.gitops.autoSync = next.autoSync;
  if (!before || form.approvalRequired === before.approvalRequired) form.approvalRequired = next.approvalRequired;
  // A new gated environment starts at one approval (the server refuses more than its approvers can give);
  // the number is left as the user set it.
}

export function formFromEnvironment(env: Environment): EnvironmentForm {
  return {
    name: env.name,
    type: env.type,
    cloudProvider: isCloudProvider(env.cloudProvider) ? env.cloudProvider : "",
    region: env.region ?? "",
    approvalRequired: env.approvalRequired,
    minApprovals: String(env.minApprovals),
    gitops: {
      enabled: env.gitops.enabled,
      repositoryId: env.gitops.repositoryId ?? "",
      branch: env.gitops.branch ?? "",
      path: env.gitops.path ?? "",
      syncInterval: env.gitops.syncInterval,
      autoSync: env.gitops.autoSync,
      clusterId: env.gitops.clusterId ?? "",
      namespace: env.gitops.namespace ?? "",
      prune: env.gitops.prune,
      timeout: env.gitops.timeout,
      wait: env.gitops.wait,
    },
  };
}

/** The fields as `environments.create` / `environments.update` take them. */
export function environmentInput(form: EnvironmentForm) {
  return {
    name: form.name.trim(),
    type: form.type,
    cloudProvider: form.cloudProvider === "" ? null : form.cloudProvider,
    region: form.region.trim() || null,
    approvalRequired: form.approvalRequired,
    minApprovals: Number(form.minApprovals),
    gitops: {
      enabled: form.gitops.enabled,
      repositoryId: form.gitops.repositoryId || null,
      branch: form.gitops.branch.trim() || null,
      path: form.gitops.path.trim() || null,
      syncInterval: form.gitops.syncInterval.trim(),
      autoSync: form.gitops.autoSync,
      clusterId: form.gitops.clusterId || null,
      namespace: form.gitops.namespace.trim() || null,
      prune: form.gitops.prune,
      timeout: form.gitops.timeout.trim(),
      wait: form.gitops.wait,
    },
  };
}

/** The namespace the server chooses when none is given: `<project>-<environment>` as a DNS label. */
export function defaultNamespace(projectSlug: string, environmentName: string): string {
  const name = `${projectSlug}-${environmentName.trim() || "environment"}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return name || "env";
}

/**
 * Whether saving the form takes the environment's Flux objects out of its cluster (GitOps turned
 * off, no cluster, another cluster): the server refuses that without `confirmGitopsRemoval`, so the
 * form first shows what would be deleted.
 */
export function removesGitopsObjects(env: Environment, form: EnvironmentForm): boolean {
  const wasBound =
    env.gitops.enabled && env.gitops.clusterId !== null && env.cluster !== null && env.cluster.gitopsState !== "off";
  if (!wasBound) return false;
  const staysBound = form.gitops.enabled && form.gitops.clusterId !== "";
  return !staysBound || form.gitops.clusterId !== env.gitops.clusterId;
}
