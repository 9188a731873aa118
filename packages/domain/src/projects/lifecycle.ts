import type { ProjectStatus } from "@juanie/contracts";

/**
 * Project lifecycle. Pure: given a state and an event, the next state or an error message.
 *   initializing --activate--> active --archive--> archived --restore--> active
 *   active --suspend--> suspended --restore--> active
 *   suspended --archive--> archived
 */
export const projectEvents = ["activate", "archive", "restore", "suspend"] as const;
export type ProjectEvent = (typeof projectEvents)[number];

const transitions: Record<ProjectStatus, Partial<Record<ProjectEvent, ProjectStatus>>> = {
  initializing: { activate: "active" },
  active: { archive: "archived", suspend: "suspended" },
  archived: { restore: "active" },
  suspended: { restore: "active", archive: "archived" },
};

export type Transition = { ok: true; to: ProjectStatus } | { ok: false; error: string };

export function transitionProject(from: ProjectStatus, event: ProjectEvent): Transition {
  const to = transitions[from][event];
  return to ? { ok: true, to } : { ok: false, error: `a project that is ${from} cannot ${event}` };
}

export function allowedProjectEvents(from: ProjectStatus): ProjectEvent[] {
  return projectEvents.filter((e) => transitions[from][e] !== undefined);
}
