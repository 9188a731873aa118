import type { Notification } from "@juanie/contracts";
import { isNotificationKind, notificationRoleScope } from "./notificationKinds.ts";

type Translate = (key: string, params?: Record<string, unknown>, plural?: number) => string;
type Has = (key: string) => boolean;
type Data = Notification["data"];

const str = (v: Data[string] | undefined) => (v === null || v === undefined ? "" : String(v));

/**
 * What a deployment changes, in the reader's language: the rollback or promotion it is, the image tag
 * (before → after when it changed), else how many settings changed, else how it was made.
 */
export function deploymentWhat(data: Data, t: Translate): string {
  const parts: string[] = [];
  if (data.rollbackOfNumber != null) parts.push(t("notifications.what.rollback", { number: data.rollbackOfNumber }));
  if (data.promotedFromNumber != null)
    parts.push(t("notifications.what.promoted", { number: data.promotedFromNumber }));
  if (data.version && data.previousVersion && data.previousVersion !== data.version) {
    parts.push(t("notifications.what.versionChange", { from: data.previousVersion, to: data.version }));
  } else if (data.version) {
    parts.push(t("notifications.what.version", { version: data.version }));
  } else if (typeof data.fieldCount === "number" && data.fieldCount > 0) {
    parts.push(t("notifications.what.fields", { n: data.fieldCount }, data.fieldCount));
  }
  if (!parts.length) {
    const method = data.method === "gitops-git" ? "git" : data.method === "manual" ? "manual" : "other";
    parts.push(t(`notifications.what.methods.${method}`));
  }
  return parts.join(t("notifications.what.separator"));
}

/** The sentence a notification reads as, and an optional second line (a comment, a reason), in the reader's language. */
export function notificationText(n: Pick<Notification, "kind" | "data">, t: Translate, te: Has) {
  const { kind, data } = n;
  if (!isNotificationKind(kind)) return { text: t("notifications.unknownKind", { kind }), detail: null };
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) params[key] = str(value);
  const scope = notificationRoleScope[kind];
  const roleKey = `roles.${scope}.${params.role}`;
  if (scope && te(roleKey)) params.role = t(roleKey);
  if (!kind.startsWith("deployment.")) return { text: t(`notifications.kinds.${kind}`, params), detail: null };
  // Notifications created before they named the deployment's number read as they always did.
  if (data.deploymentNumber == null) {
    const legacy = `notifications.legacyKinds.${kind}`;
    return { text: te(legacy) ? t(legacy, params) : t("notifications.unknownKind", { kind }), detail: null };
  }
  params.what = deploymentWhat(data, t);
  if (params.commitSha) params.commitSha = params.commitSha.slice(0, 7);
  params.author = params.author || t("notifications.unknownAuthor");
  params.actor = params.actor || t("notifications.platform");
  const key = kind === "deployment.approved" && data.breakGlassReason ? "deployment.approved_break_glass" : kind;
  let detail: string | null = null;
  if (kind === "deployment.rejected" && data.comment) detail = t("notifications.detail.comment", params);
  if (kind === "deployment.failed") {
    const stage = ["commit", "conflict", "rollout"].includes(params.stage ?? "") ? params.stage : "commit";
    detail = t(`notifications.detail.failed.${stage}`, params);
  }
  return { text: t(`notifications.kinds.${key}`, params), detail };
}
