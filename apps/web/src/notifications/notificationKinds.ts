/** Kinds the server emits; each has a template under `notifications.kinds`. */
export const notificationKinds = [
  "invitation.received",
  "org.role_changed",
  "team.added",
  "project.role_changed",
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/** Which role vocabulary a kind's `data.role` belongs to. */
export const notificationRoleScope: Record<NotificationKind, "org" | "team" | "project"> = {
  "invitation.received": "org",
  "org.role_changed": "org",
  "team.added": "team",
  "project.role_changed": "project",
};

export function isNotificationKind(kind: string): kind is NotificationKind {
  return notificationKinds.some((known) => known === kind);
}
