import { z } from "zod";

export const orgRoles = ["admin", "member"] as const;
export const teamRoles = ["owner", "maintainer", "member"] as const;
/** Highest first. */
export const projectRoles = ["owner", "maintainer", "developer", "viewer"] as const;
export const projectVisibilities = ["public", "internal", "private"] as const;
export const projectStatuses = ["initializing", "active", "archived", "suspended"] as const;

export const orgRoleSchema = z.enum(orgRoles);
export const teamRoleSchema = z.enum(teamRoles);
export const projectRoleSchema = z.enum(projectRoles);
export const projectVisibilitySchema = z.enum(projectVisibilities);
export const projectStatusSchema = z.enum(projectStatuses);

export type OrgRole = (typeof orgRoles)[number];
export type TeamRole = (typeof teamRoles)[number];
export type ProjectRole = (typeof projectRoles)[number];
export type ProjectVisibility = (typeof projectVisibilities)[number];
export type ProjectStatus = (typeof projectStatuses)[number];
