/** Kinds the server emits; each has a template under `notifications.kinds`. */
export const notificationKinds = [
  "invitation.received",
  "org.role_changed",
  "team.added",
  "project.role_changed",
  "deployment.approval_requested",
  "deployment.approved",
  "deployment.rejected",
  "deployment.committed",
  "deployment.break_glass",
  "deployment.bypassed_approval",
  "deployment.failed",
  "cluster.flux_unhealthy",
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/** Which role vocabulary a kind's `data.role` belongs to (kinds without a role have none). */
export const notificationRoleScope: Partial<Record<NotificationKind, "org" | "team" | "project">> = {
  "invitation.received": "org",
  "org.role_changed": "org",
  "team.added": "team",
  "project.role_changed": "project",
};

export function isNotificationKind(kind: string): kind is NotificationKind {
  return notificationKinds.some((known) => known === kind);
}
