import type { FieldIssue, MessageParams } from "./errors.ts";

/**
 * The field rules whose English wording is fixed, by stable name. The server recognizes these texts in
 * its field errors and sends the name along (see `FieldIssue`); the browser words the name in the user's
 * language. Rules that carry numbers (`must be at most 63 characters`) are recognized from the zod issue
 * itself, not from their text.
 */
export const fieldRules = {
  required: "is required",
  slug: "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
  username: "may contain letters, digits, '-', '_' and '.', and must start and end with a letter or digit",
  email: "must be a valid e-mail address",
  uuid: "must be a UUID",
  datetime: "must be an ISO 8601 date-time",
  kube_namespace: "must be lowercase letters, digits and '-', starting and ending with a letter or digit",
  kube_namespace_length: "must be at most 63 characters (a Kubernetes namespace name)",
  flux_version: "must be a Flux release version like 2.7.3",
  flux_mirror_url:
    "must be an http(s) URL containing {version}, e.g. https://mirror.example.com/flux/v{version}/install.yaml",
  kubeconfig_size: "must be at most 1 MB",
  manifest_size: "must be at most 20 MB",
  too_long: "is too long",
  private_key: "must be a private key in OpenSSH or PEM format",
  absolute_url: "must be an absolute URL",
  repository_name: "may contain letters, digits, '.', '_' and '-'",
  duration: "must be a duration like 30s, 5m or 1h",
  duration_range: "must be between 10s and 24h",
  commit_sha: "must be a commit SHA (7–40 hexadecimal characters)",
  reject_comment: "is required: say why",
  break_glass_reason: "is required: say why the approval cannot wait",
  // Answers of the server, checked against the database.
  taken: "is already taken",
  in_use: "is already in use",
  already_member: "is already a member",
  already_connected: "is already connected",
  listed_twice: "is listed twice",
  org_member: "must be a member of the organization",
  project_org_member: "must be a member of the project's organization",
  project_org_team: "must be a team of the project's organization",
  existing_user: "must be an existing user",
  last_project_owner: "is the project's last owner and cannot be removed",
  last_project_owner_role: "cannot be changed: this is the project's last owner",
  last_org_admin: "is the organization's last admin and cannot be removed",
  last_org_admin_role: "cannot be changed: this is the organization's last admin",
  not_current_password: "is not your current password",
  cursor: "is not a cursor returned by this list",
  invitee: "must be a valid e-mail address or an existing username",
  invitation_invalid: "is not a valid, pending invitation",
  invitation_existing_account: "was sent to an existing account: sign in",
  invitation_email: "must be the address the invitation was sent to",
  invitation_required: "is required: accounts are created by invitation",
  gitops_required: "is required when GitOps is enabled",
  gitops_branch: "is not a valid Git branch name",
  gitops_path: "must be a relative path inside the repository (no '..', no leading '/')",
  project_repository: "must be a repository connected to this project",
  org_cluster: "must be a cluster of the project's organization",
  kube_label: "must be a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
  environment_gitops_off: "has GitOps turned off: enable it and choose repository, branch and path",
  environment_repository_gone: "points at a repository that is no longer connected",
  environment_deleted: "was deleted",
  spec_unchanged: "changes nothing: the environment already has these values",
  spec_unchanged_head: "changes nothing on the current branch head",
  git_auth_failed: "was refused by the Git host (authentication failed)",
  git_no_write_access: "can read the repository but cannot push to it (no write access)",
  git_network: "cannot be reached (network error)",
  git_timeout: "did not answer in time",
  git_branch_not_found: "does not exist in the repository",
  provider_auth_failed: "was refused by the provider API (authentication failed)",
  provider_not_found: "was not found by the provider API",
  provider_forbidden: "lacks the permission this needs",
  provider_name_taken: "is already taken on the provider",
  pending_invitation: "already has a pending invitation",
  layout_exists: "already has a k8s/ directory: nothing was changed",
  only_sign_in: "is your only way to sign in: set a password first",
  promotion_project: "must be a deployment of this project",
  promotion_environment: "must be a deployment of another environment: a promotion moves values on",
  order_twice: "lists an environment twice",
  rollback_no_commit: "has no commit to return to: only committed deployments can be rolled back to",
  rollback_nothing: "is what the environment already runs: there is nothing to roll back",
} as const;

export type FieldRule = keyof typeof fieldRules;

/** The rule names `describeIssue` gives a zod issue from the kind of check that failed (`message`: unknown). */
export const issueRules = [
  "message",
  "required",
  "too_short",
  "too_long_max",
  "too_small",
  "too_big",
  "too_few",
  "too_many",
  "invalid_type",
  "invalid_format",
  "invalid",
  "one_of",
  "unknown_field",
  "email",
  "uuid",
  "url",
  "datetime",
] as const;

/** Structural view of a zod (v4) issue: what `describeIssue` reads. */
export interface IssueLike {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  format?: string;
  values?: readonly unknown[];
  keys?: readonly string[];
  params?: Record<string, unknown>;
}

/** English text → rule name, for `fieldRules` and any extra rules (`deploy.image` for the deploy form's). */
export function ruleCatalog(...extra: Record<string, string>[]): Map<string, string> {
  const byMessage = new Map<string, string>();
  for (const rules of [...extra, fieldRules as Record<string, string>]) {
    for (const [rule, message] of Object.entries(rules)) if (!byMessage.has(message)) byMessage.set(message, rule);
  }
  return byMessage;
}

const defaultCatalog = ruleCatalog();

function num(value: number | bigint | undefined): number {
  return Number(value ?? 0);
}

function scalarParams(params: Record<string, unknown> | undefined): MessageParams {
  const out: MessageParams = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (key !== "rule" && (typeof value === "string" || typeof value === "number")) out[key] = value;
  }
  return out;
}

/** The rule name of a message the server wrote, when it is one of the catalog's; `message` otherwise. */
export function ruleOfMessage(message: string, catalog: Map<string, string> = defaultCatalog): string {
  return catalog.get(message) ?? "message";
}

/**
 * A zod issue as a field issue: its rule's stable name and parameters. A known English text names its rule
 * (the form's own wording wins), then a refinement's `params.rule`, then the kind of check that failed.
 */
export function describeIssue(issue: IssueLike, catalog: Map<string, string> = defaultCatalog): FieldIssue {
  const field = issue.path.map(String).join(".");
  const base = { field, message: issue.message };
  const known = catalog.get(issue.message);
  if (known) return { ...base, rule: known };
  if (typeof issue.params?.rule === "string") {
    return { ...base, rule: issue.params.rule, params: scalarParams(issue.params) };
  }
  const numeric = issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint";
  const list = issue.origin === "array" || issue.origin === "set";
  switch (issue.code) {
    case "invalid_type":
      return { ...base, rule: /received undefined|received null/.test(issue.message) ? "required" : "invalid_type" };
    case "too_small": {
      const min = num(issue.minimum);
      if (issue.origin === "string")
        return min <= 1 ? { ...base, rule: "required" } : { ...base, rule: "too_short", params: { min } };
      return { ...base, rule: list ? "too_few" : numeric ? "too_small" : "invalid", params: { min } };
    }
    case "too_big": {
      const max = num(issue.maximum);
      if (issue.origin === "string") return { ...base, rule: "too_long_max", params: { max } };
      return { ...base, rule: list ? "too_many" : numeric ? "too_big" : "invalid", params: { max } };
    }
    case "invalid_format": {
      const format = issue.format ?? "regex";
      if (["email", "uuid", "url", "datetime"].includes(format)) return { ...base, rule: format };
      return { ...base, rule: "invalid_format" };
    }
    case "invalid_value":
    case "invalid_union": {
      const values = (issue.values ?? []).filter((v) => typeof v === "string" || typeof v === "number");
      return values.length
        ? { ...base, rule: "one_of", params: { values: values.join(", ") } }
        : { ...base, rule: "invalid" };
    }
    case "unrecognized_keys":
      return { ...base, rule: "unknown_field" };
    case "not_multiple_of":
      return { ...base, rule: "invalid" };
    default:
      return { ...base, rule: "message" };
  }
}

/** Field errors written as English text (`{ slug: ["is already taken"] }`) as field issues. */
export function issuesOfFieldErrors(
  fieldErrors: Record<string, string[]>,
  catalog: Map<string, string> = defaultCatalog,
): FieldIssue[] {
  return Object.entries(fieldErrors).flatMap(([field, messages]) =>
    messages.map((message) => ({ field, rule: ruleOfMessage(message, catalog), message })),
  );
}
