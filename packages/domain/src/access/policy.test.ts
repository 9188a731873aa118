import type { ProjectVisibility } from "@juanie/contracts";
import { projectVisibilities } from "@juanie/contracts";
import { describe, expect, it } from "vitest";
import {
  type Action,
  actions,
  decide,
  environmentPermission,
  highestProjectRole,
  projectRoleAtLeast,
  type Subject,
} from "./policy.ts";

/** Who asks. Team roles and project roles are held by members of the organization. */
const subjects = {
  "platform admin": { isPlatformAdmin: true, orgRole: null },
  "non-member": { isPlatformAdmin: false, orgRole: null },
  "org member": { isPlatformAdmin: false, orgRole: "member" },
  "org admin": { isPlatformAdmin: false, orgRole: "admin" },
  "team member": { isPlatformAdmin: false, orgRole: "member", teamRole: "member" },
  "team maintainer": { isPlatformAdmin: false, orgRole: "member", teamRole: "maintainer" },
  "team owner": { isPlatformAdmin: false, orgRole: "member", teamRole: "owner" },
  "project viewer": { isPlatformAdmin: false, orgRole: "member", projectRole: "viewer" },
  "project developer": { isPlatformAdmin: false, orgRole: "member", projectRole: "developer" },
  "project maintainer": { isPlatformAdmin: false, orgRole: "member", projectRole: "maintainer" },
  "project owner": { isPlatformAdmin: false, orgRole: "member", projectRole: "owner" },
} satisfies Record<string, Subject>;
type Who = keyof typeof subjects;
const everyone = Object.keys(subjects) as Who[];

/**
 * "allow", or the role a denial must name. A per-visibility object where the project's visibility
 * matters (only for reading a project).
 */
type Expect = "allow" | `requires ${string}`;
type Cell = Expect | Record<ProjectVisibility, Expect>;

const orgAdminOnly = (required: string): Record<Who, Cell> => ({
  "platform admin": "allow",
  "non-member": `requires ${required}`,
  "org member": `requires ${required}`,
  "org admin": "allow",
  "team member": `requires ${required}`,
  "team maintainer": `requires ${required}`,
  "team owner": `requires ${required}`,
  "project viewer": `requires ${required}`,
  "project developer": `requires ${required}`,
  "project maintainer": `requires ${required}`,
  "project owner": `requires ${required}`,
});

const anyOrgMember: Record<Who, Cell> = {
  "platform admin": "allow",
  "non-member": "requires organization member",
  "org member": "allow",
  "org admin": "allow",
  "team member": "allow",
  "team maintainer": "allow",
  "team owner": "allow",
  "project viewer": "allow",
  "project developer": "allow",
  "project maintainer": "allow",
  "project owner": "allow",
};

const teamManagers: Record<Who, Cell> = {
  ...orgAdminOnly("team maintainer"),
  "team maintainer": "allow",
  "team owner": "allow",
};

const projectMaintainers: Record<Who, Cell> = {
  ...orgAdminOnly("project maintainer"),
  "project maintainer": "allow",
  "project owner": "allow",
};

const hidden = "requires project viewer";
const expected: Record<Action, Record<Who, Cell>> = {
  "org.read": anyOrgMember,
  "org.update": orgAdminOnly("organization admin"),
  "org.delete": orgAdminOnly("organization admin"),
  "org.member.manage": orgAdminOnly("organization admin"),
  "org.invite": orgAdminOnly("organization admin"),
  "org.audit.read": orgAdminOnly("organization admin"),
  "team.create": orgAdminOnly("organization admin"),
  "team.read": anyOrgMember,
  "team.update": teamManagers,
  "team.delete": { ...orgAdminOnly("team owner"), "team owner": "allow" },
  "team.member.manage": teamManagers,
  "project.create": anyOrgMember,
  "project.read": {
    "platform admin": "allow",
    "non-member": { public: "allow", internal: hidden, private: hidden },
    "org member": { public: "allow", internal: "allow", private: hidden },
    "org admin": "allow",
    "team member": { public: "allow", internal: "allow", private: hidden },
    "team maintainer": { public: "allow", internal: "allow", private: hidden },
    "team owner": { public: "allow", internal: "allow", private: hidden },
    "project viewer": "allow",
    "project developer": "allow",
    "project maintainer": "allow",
    "project owner": "allow",
  },
  "project.update": projectMaintainers,
  "project.archive": { ...orgAdminOnly("project owner"), "project owner": "allow" },
  "project.member.manage": projectMaintainers,
  "project.team.manage": projectMaintainers,
  "repository.manage": projectMaintainers,
  "environment.manage": projectMaintainers,
  // Decided on the environment permission, which none of these subjects carries (see below).
  "deployment.create": {
    ...orgAdminOnly("environment deploy permission"),
    "org admin": "requires environment deploy permission",
  },
  "deployment.approve": {
    ...orgAdminOnly("environment deploy permission"),
    "org admin": "requires environment deploy permission",
  },
  "cluster.read": anyOrgMember,
  "cluster.manage": orgAdminOnly("organization admin"),
  "platform.audit.read": { ...orgAdminOnly("platform administrator"), "org admin": "requires platform administrator" },
};

/** What the denial says the subject has: their most specific role, or none. */
function heldRole(who: Who): string {
  if (who === "non-member") return "(you have no role here)";
  return who.replace(/^org /, "organization ");
}

/** Which of the subject's roles an action is decided on; creating is decided on the organization role. */
function scopeOf(action: Action): "organization" | "team" | "project" {
  if (action === "team.create" || action === "project.create") return "organization";
  if (action.startsWith("team.")) return "team";
  if (action.startsWith("project.") || action.startsWith("repository.") || action.startsWith("environment.")) {
    return "project";
  }
  return "organization";
}

const cases = actions.flatMap((action) =>
  everyone.flatMap((who) =>
    projectVisibilities.map((visibility) => {
      const cell = expected[action][who];
      return { action, who, visibility, want: typeof cell === "string" ? cell : cell[visibility] };
    }),
  ),
);

describe("decide: every action × role × project visibility", () => {
  it("the table covers every action the policy knows", () => {
    expect(Object.keys(expected).sort()).toEqual([...actions].sort());
  });

  it.each(cases)("$action by $who on a $visibility project → $want", ({ action, who, visibility, want }) => {
    const subject: Subject = { ...subjects[who], projectVisibility: visibility };
    const decision = decide(subject, action);
    if (want === "allow") {
      expect(decision).toEqual({ allowed: true });
      return;
    }
    const role = want.slice("requires ".length);
    expect(decision).toMatchObject({ allowed: false, requiredRole: role });
    if (decision.allowed) return;
    // The reason a user reads says what they tried, what it needs and what they have.
    expect(decision.reason).toContain(`requires ${role}`);
    if (who === "non-member" || action === "platform.audit.read" || action.startsWith("deployment.")) {
      expect(decision.reason).toMatch(/\(you have no role here\)$/);
    } else {
      expect(decision.reason).toMatch(/\(you have (organization|team|project) [a-z]+\)$/);
      // A team or project role is named only when it is about that kind of resource.
      const held = heldRole(who);
      const relevant = held.startsWith(`${scopeOf(action)} `) ? held : `organization ${subjects[who].orgRole}`;
      expect(decision.reason).toContain(`(you have ${relevant})`);
    }
  });
});

describe("project role order", () => {
  it("compares roles highest first", () => {
    expect(projectRoleAtLeast("owner", "maintainer")).toBe(true);
    expect(projectRoleAtLeast("maintainer", "maintainer")).toBe(true);
    expect(projectRoleAtLeast("developer", "maintainer")).toBe(false);
    expect(projectRoleAtLeast(null, "viewer")).toBe(false);
  });

  it("a user's effective role is the highest of their grants", () => {
    expect(highestProjectRole(["viewer", "maintainer", "developer"])).toBe("maintainer");
    expect(highestProjectRole([null, undefined])).toBe(null);
    expect(highestProjectRole([])).toBe(null);
  });
});

describe("environment permission", () => {
  const base = { isPlatformAdmin: false, orgRole: "member" as const, grants: [], environmentHasGrants: false };
  it.each([
    ["org admin", { ...base, orgRole: "admin" as const, projectRole: null }, "admin"],
    ["project owner", { ...base, projectRole: "owner" as const }, "admin"],
    ["project maintainer", { ...base, projectRole: "maintainer" as const }, "admin"],
    ["project developer, open environment", { ...base, projectRole: "developer" as const }, "deploy"],
    ["project viewer, open environment", { ...base, projectRole: "viewer" as const }, "read"],
    [
      "project developer, locked environment",
      { ...base, projectRole: "developer" as const, environmentHasGrants: true },
      "read",
    ],
    [
      "project developer with a deploy grant",
      {
        ...base,
        projectRole: "developer" as const,
        environmentHasGrants: true,
        grants: ["read" as const, "deploy" as const],
      },
      "deploy",
    ],
    ["outsider with a grant", { ...base, orgRole: null, projectRole: null, grants: ["read" as const] }, "read"],
    ["outsider", { ...base, orgRole: null, projectRole: null }, null],
  ])("%s → %s", (_name, input, expected) => {
    expect(environmentPermission(input)).toBe(expected);
  });

  it.each([
    ["read", false],
    ["deploy", true],
    ["admin", true],
    [null, false],
  ] as const)("with %s permission, deploying is allowed: %s", (permission, allowed) => {
    const subject: Subject = { isPlatformAdmin: false, orgRole: "member", environmentPermission: permission };
    for (const action of ["deployment.create", "deployment.approve"] as const) {
      const d = decide(subject, action);
      expect(d.allowed).toBe(allowed);
      if (!d.allowed) expect(d.requiredRole).toBe("environment deploy permission");
    }
  });
});
