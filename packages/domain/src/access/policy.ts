import type { OrgRole, ProjectRole, ProjectVisibility, TeamRole } from "@juanie/contracts";
import { projectRoles } from "@juanie/contracts";

/**
 * The one place that decides who may do what. Pure: callers load the subject's roles,
 * this module answers allow/deny and, on deny, names the role that is missing.
 * Deny by default: an action without a rule is denied.
 */
export const actions = [
  // organizations
  "org.read",
  "org.update",
  "org.delete",
  "org.member.manage",
  "org.invite",
  "org.audit.read",
  // teams
  "team.create",
  "team.read",
  "team.update",
  "team.delete",
  "team.member.manage",
  // projects
  "project.create",
  "project.read",
  "project.update",
  "project.archive",
  "project.member.manage",
  "project.team.manage",
  // repositories, environments, deployments
  "repository.manage",
  "environment.manage",
  "deployment.create",
  "deployment.approve",
  // clusters (organization-wide)
  "cluster.read",
  "cluster.manage",
  // platform
  "platform.audit.read",
] as const;
export type Action = (typeof actions)[number];

export interface Subject {
  isPlatformAdmin: boolean;
  /** Role in the organization the resource belongs to; null when not a member. */
  orgRole: OrgRole | null;
  /** Role in the team acted on (team actions only). */
  teamRole?: TeamRole | null;
  /** Effective project role: the highest of the direct grant and the grants of the user's teams. */
  projectRole?: ProjectRole | null;
  /** Visibility of the project acted on (project actions only). */
  projectVisibility?: ProjectVisibility;
  /** Effective permission on the environment acted on (deployment actions only); see environmentPermission. */
  environmentPermission?: EnvironmentPermission | null;
}

export const environmentPermissions = ["read", "deploy", "admin"] as const;
export type EnvironmentPermission = (typeof environmentPermissions)[number];

/**
 * Permission on one environment. Organization admins and project maintainers administer every
 * environment. Explicit grants (to the user or one of their teams) count next; an environment
 * without explicit grants lets developers deploy and viewers read, while one with grants
 * (a locked-down production, say) gives everybody else read only.
 */
export function environmentPermission(input: {
  isPlatformAdmin: boolean;
  orgRole: OrgRole | null;
  projectRole: ProjectRole | null;
  grants: EnvironmentPermission[];
  environmentHasGrants: boolean;
}): EnvironmentPermission | null {
  if (input.isPlatformAdmin || input.orgRole === "admin" || projectRoleAtLeast(input.projectRole, "maintainer")) {
    return "admin";
  }
  const granted = input.grants.reduce<EnvironmentPermission | null>(
    (best, g) => (!best || environmentPermissions.indexOf(g) > environmentPermissions.indexOf(best) ? g : best),
    null,
  );
  if (granted) return granted;
  if (!input.projectRole) return null;
  if (input.environmentHasGrants) return "read";
  return input.projectRole === "developer" ? "deploy" : "read";
}

export type Decision =
  | { allowed: true }
  | {
      allowed: false;
      requiredRole: string;
      reason: string;
      /** For translated messages: the action asked for, and the role the subject has (null: none). */
      action?: Action;
      has?: string | null;
    };

const allow: Decision = { allowed: true };

function deny(requiredRole: string, what: string, has: string | null | undefined): Decision {
  return {
    allowed: false,
    requiredRole,
    reason: `${what} requires ${requiredRole}${has ? ` (you have ${has})` : " (you have no role here)"}`,
    has: has ?? null,
  };
}

/** Project roles ordered highest first; `atLeast(role, min)` compares in that order. */
export function projectRoleAtLeast(role: ProjectRole | null | undefined, min: ProjectRole): boolean {
  if (!role) return false;
  return projectRoles.indexOf(role) <= projectRoles.indexOf(min);
}

export function highestProjectRole(roles: readonly (ProjectRole | null | undefined)[]): ProjectRole | null {
  let best: ProjectRole | null = null;
  for (const r of roles) if (r && (!best || projectRoles.indexOf(r) < projectRoles.indexOf(best))) best = r;
  return best;
}

const describe: Record<Action, string> = {
  "org.read": "viewing this organization",
  "org.update": "changing organization settings",
  "org.delete": "deleting the organization",
  "org.member.manage": "managing organization members",
  "org.invite": "inviting members",
  "org.audit.read": "reading the organization's audit log",
  "team.create": "creating a team",
  "team.read": "viewing this team",
  "team.update": "editing the team",
  "team.delete": "deleting the team",
  "team.member.manage": "managing team members",
  "project.create": "creating a project",
  "project.read": "viewing this project",
  "project.update": "changing project settings",
  "project.archive": "archiving or restoring the project",
  "project.member.manage": "managing project members",
  "project.team.manage": "granting teams access to the project",
  "repository.manage": "managing the project's repositories",
  "environment.manage": "managing environments",
  "deployment.create": "deploying to this environment",
  "deployment.approve": "approving deployments to this environment",
  "cluster.read": "viewing the organization's clusters",
  "cluster.manage": "managing the organization's clusters and their Flux",
  "platform.audit.read": "reading the platform-wide audit log",
};

export function decide(subject: Subject, action: Action): Decision {
  const d = decision(subject, action);
  return d.allowed ? d : { ...d, action };
}

function decision(subject: Subject, action: Action): Decision {
  if (subject.isPlatformAdmin) return allow;
  const what = describe[action];
  const org = subject.orgRole;
  const isOrgAdmin = org === "admin";
  const orgRoleLabel = org ? `organization ${org}` : null;

  switch (action) {
    case "org.read":
    case "cluster.read":
      return org ? allow : deny("organization member", what, null);
    case "cluster.manage":
      return isOrgAdmin ? allow : deny("organization admin", what, orgRoleLabel);
    case "org.update":
    case "org.delete":
    case "org.member.manage":
    case "org.invite":
    case "org.audit.read":
    case "team.create":
      return isOrgAdmin ? allow : deny("organization admin", what, orgRoleLabel);
    case "project.create":
      return org ? allow : deny("organization member", what, null);
    case "team.read":
      return org ? allow : deny("organization member", what, null);
    case "team.update":
    case "team.member.manage": {
      if (isOrgAdmin || subject.teamRole === "owner" || subject.teamRole === "maintainer") return allow;
      return deny("team maintainer", what, subject.teamRole ? `team ${subject.teamRole}` : orgRoleLabel);
    }
    case "team.delete":
      if (isOrgAdmin || subject.teamRole === "owner") return allow;
      return deny("team owner", what, subject.teamRole ? `team ${subject.teamRole}` : orgRoleLabel);
    case "project.read": {
      if (isOrgAdmin || subject.projectRole) return allow;
      if (subject.projectVisibility === "public") return allow;
      if (subject.projectVisibility === "internal" && org) return allow;
      return deny("project viewer", what, orgRoleLabel);
    }
    case "project.update":
    case "project.member.manage":
    case "project.team.manage":
      return isOrgAdmin || projectRoleAtLeast(subject.projectRole, "maintainer")
        ? allow
        : deny("project maintainer", what, subject.projectRole ? `project ${subject.projectRole}` : orgRoleLabel);
    case "project.archive":
      return isOrgAdmin || projectRoleAtLeast(subject.projectRole, "owner")
        ? allow
        : deny("project owner", what, subject.projectRole ? `project ${subject.projectRole}` : orgRoleLabel);
    case "repository.manage":
    case "environment.manage":
      return isOrgAdmin || projectRoleAtLeast(subject.projectRole, "maintainer")
        ? allow
        : deny("project maintainer", what, subject.projectRole ? `project ${subject.projectRole}` : orgRoleLabel);
    case "deployment.create":
    case "deployment.approve": {
      const p = subject.environmentPermission;
      if (p === "deploy" || p === "admin") return allow;
      return deny("environment deploy permission", what, p ? `environment ${p} permission` : null);
    }
    case "platform.audit.read":
      return deny("platform administrator", what, null);
    default: {
      const unknown: never = action;
      return deny("platform administrator", `action ${String(unknown)}`, null);
    }
  }
}
