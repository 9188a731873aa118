import type { ProjectStatus } from "@juanie/contracts";
import { projectStatuses } from "@juanie/contracts";
import { describe, expect, it } from "vitest";
import { allowedProjectEvents, type ProjectEvent, projectEvents, transitionProject } from "./lifecycle.ts";

/** Every (state, event) pair: the state it leads to, or null when the event is refused there. */
const table: Record<ProjectStatus, Record<ProjectEvent, ProjectStatus | null>> = {
  initializing: { activate: "active", archive: null, restore: null, suspend: null },
  active: { activate: null, archive: "archived", restore: null, suspend: "suspended" },
  archived: { activate: null, archive: null, restore: "active", suspend: null },
  suspended: { activate: null, archive: "archived", restore: "active", suspend: null },
};

const pairs = projectStatuses.flatMap((from) =>
  projectEvents.map((event) => ({ from, event, to: table[from][event] ?? "refused" })),
);

describe("project lifecycle", () => {
  it("covers every state and event", () => {
    expect(pairs).toHaveLength(projectStatuses.length * projectEvents.length);
  });

  it.each(pairs)("$from --$event--> $to", ({ from, event, to }) => {
    const t = transitionProject(from, event);
    if (to === "refused") {
      // The refusal says, in words the UI can show, what state the project is in and what was tried.
      expect(t).toEqual({ ok: false, error: `a project that is ${from} cannot ${event}` });
    } else {
      expect(t).toEqual({ ok: true, to });
    }
  });

  it.each(projectStatuses)("the events offered in %s are exactly the ones it accepts", (from) => {
    const accepted = projectEvents.filter((e) => table[from][e] !== null);
    expect(allowedProjectEvents(from)).toEqual(accepted);
  });

  it("every state can get back to active, and none returns to initializing", () => {
    for (const from of projectStatuses) {
      const reachable = new Set<ProjectStatus>([from]);
      for (let changed = true; changed; ) {
        changed = false;
        for (const s of [...reachable]) {
          for (const e of allowedProjectEvents(s)) {
            const t = transitionProject(s, e);
            if (t.ok && !reachable.has(t.to)) {
              reachable.add(t.to);
              changed = true;
            }
          }
        }
      }
      expect(reachable.has("active"), `${from} can reach active`).toBe(true);
      expect(reachable.has("initializing"), `${from} can go back to initializing`).toBe(from === "initializing");
    }
  });
});
