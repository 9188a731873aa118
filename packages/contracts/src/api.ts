import { z } from "zod";
import {
  cursorSchema,
  descriptionSchema,
  emailSchema,
  limitSchema,
  nameSchema,
  page,
  passwordSchema,
  slugSchema,
  usernameSchema,
  uuidSchema,
} from "./common.ts";
import {
  orgRoleSchema,
  projectRoleSchema,
  projectStatusSchema,
  projectVisibilitySchema,
  teamRoleSchema,
} from "./roles.ts";

// ---------- users and auth ----------

export const userSummary = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  avatarUrl: z.string().nullable(),
});
export type UserSummary = z.infer<typeof userSummary>;

export const me = userSummary.extend({
  email: z.string(),
  isPlatformAdmin: z.boolean(),
  locale: z.string().nullable(),
  hasPassword: z.boolean(),
  linkedProviders: z.array(z.enum(["github", "gitlab"])),
});
export type Me = z.infer<typeof me>;

export const oauthProviders = ["github", "gitlab"] as const;
export const oauthProviderSchema = z.enum(oauthProviders);

export const setupStatus = z.object({
  needsSetup: z.boolean(),
  oauthProviders: z.array(oauthProviderSchema),
});

export const setupInput = z.object({
  email: emailSchema,
  username: usernameSchema,
  displayName: nameSchema,
  password: passwordSchema,
});

export const signInInput = z.object({
  login: z.string().trim().min(1, { message: "is required" }).max(254),
  password: z.string().min(1, { message: "is required" }).max(256),
});

export const signUpInput = setupInput;

export const updateProfileInput = z.object({
  displayName: nameSchema,
  locale: z.enum(["en", "zh-CN"]).nullable(),
});

export const changePasswordInput = z.object({
  currentPassword: z.string().max(256).optional(),
  newPassword: passwordSchema,
});

export const userSearchInput = z.object({
  organizationId: uuidSchema.optional(),
  query: z.string().trim().min(1).max(100),
});

// ---------- organizations ----------

export const organization = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  displayName: z.string().nullable(),
  createdAt: z.string(),
  myRole: orgRoleSchema.nullable(),
  memberCount: z.number(),
  projectCount: z.number(),
  teamCount: z.number(),
});
export type Organization = z.infer<typeof organization>;

export const createOrganizationInput = z.object({
  name: nameSchema,
  slug: slugSchema,
  displayName: z.string().trim().max(100).nullish(),
});
export const updateOrganizationInput = z.object({
  organizationId: uuidSchema,
  name: nameSchema,
  displayName: z.string().trim().max(100).nullish(),
});
export const orgRef = z.object({ organizationId: uuidSchema });
export const orgBySlug = z.object({ slug: z.string().max(63) });
export const deleteOrganizationInput = z.object({ organizationId: uuidSchema, confirmSlug: z.string().max(63) });

export const orgMember = z.object({
  user: userSummary.extend({ email: z.string() }),
  role: orgRoleSchema,
  joinedAt: z.string(),
});
export const changeOrgMemberRoleInput = z.object({
  organizationId: uuidSchema,
  userId: uuidSchema,
  role: orgRoleSchema,
});
export const removeOrgMemberInput = z.object({ organizationId: uuidSchema, userId: uuidSchema });

// ---------- invitations ----------

export const invitationStatusSchema = z.enum(["pending", "accepted", "declined", "revoked", "expired"]);
export const invitation = z.object({
  id: z.string(),
  organization: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  email: z.string().nullable(),
  invitee: userSummary.nullable(),
  role: orgRoleSchema,
  status: invitationStatusSchema,
  invitedBy: userSummary.nullable(),
  expiresAt: z.string(),
  createdAt: z.string(),
});
export type Invitation = z.infer<typeof invitation>;

export const createInvitationInput = z.object({
  organizationId: uuidSchema,
  /** An e-mail address or an existing username. */
  invitee: z.string().trim().min(1, { message: "is required" }).max(254),
  role: orgRoleSchema,
  expiresInDays: z.number().int().min(1).max(30).default(7),
});
export const createdInvitation = z.object({
  invitation,
  /** Shown once to the inviter; only a hash is stored. */
  acceptUrl: z.string(),
});
export const invitationRef = z.object({ invitationId: uuidSchema });
export const invitationToken = z.object({ token: z.string().min(10).max(200) });

// ---------- teams ----------

export const team = z.object({
  id: z.string(),
  organizationId: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  memberCount: z.number(),
  myRole: teamRoleSchema.nullable(),
  createdAt: z.string(),
});
export type Team = z.infer<typeof team>;
export const teamMember = z.object({ user: userSummary, role: teamRoleSchema, joinedAt: z.string() });
export const createTeamInput = z.object({
  organizationId: uuidSchema,
  name: nameSchema,
  slug: slugSchema,
  description: descriptionSchema.default(""),
});
export const updateTeamInput = z.object({ teamId: uuidSchema, name: nameSchema, description: descriptionSchema });
export const teamRef = z.object({ teamId: uuidSchema });
export const teamBySlug = z.object({ organizationId: uuidSchema, slug: z.string().max(63) });
export const teamMemberInput = z.object({ teamId: uuidSchema, userId: uuidSchema, role: teamRoleSchema });
export const removeTeamMemberInput = z.object({ teamId: uuidSchema, userId: uuidSchema });

// ---------- projects ----------

export const project = z.object({
  id: z.string(),
  organizationId: z.string(),
  organizationSlug: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  visibility: projectVisibilitySchema,
  status: projectStatusSchema,
  myRole: projectRoleSchema.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Project = z.infer<typeof project>;
export const createProjectInput = z.object({
  organizationId: uuidSchema,
  name: nameSchema,
  slug: slugSchema,
  description: descriptionSchema.default(""),
  visibility: projectVisibilitySchema.default("private"),
});
export const updateProjectInput = z.object({
  projectId: uuidSchema,
  name: nameSchema,
  description: descriptionSchema,
  visibility: projectVisibilitySchema,
});
export const projectRef = z.object({ projectId: uuidSchema });
export const projectBySlug = z.object({ organizationSlug: z.string().max(63), slug: z.string().max(63) });
export const listProjectsInput = z.object({
  organizationId: uuidSchema.optional(),
  status: projectStatusSchema.optional(),
  search: z.string().trim().max(100).optional(),
  cursor: cursorSchema,
  limit: limitSchema,
});
export const projectsPage = page(project);
export const projectMemberEntry = z.object({ user: userSummary, role: projectRoleSchema, addedAt: z.string() });
export const projectTeamEntry = z.object({
  team: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  role: projectRoleSchema,
  addedAt: z.string(),
});
export const projectAccess = z.object({ members: z.array(projectMemberEntry), teams: z.array(projectTeamEntry) });
export const projectMemberInput = z.object({ projectId: uuidSchema, userId: uuidSchema, role: projectRoleSchema });
export const removeProjectMemberInput = z.object({ projectId: uuidSchema, userId: uuidSchema });
export const projectTeamInput = z.object({ projectId: uuidSchema, teamId: uuidSchema, role: projectRoleSchema });
export const revokeProjectTeamInput = z.object({ projectId: uuidSchema, teamId: uuidSchema });

// ---------- audit ----------

export const auditResultSchema = z.enum(["success", "denied", "failed"]);
export const auditEntry = z.object({
  id: z.string(),
  createdAt: z.string(),
  actor: z.object({ id: z.string().nullable(), label: z.string() }),
  action: z.string(),
  resourceType: z.string(),
  resourceId: z.string().nullable(),
  organizationId: z.string().nullable(),
  projectId: z.string().nullable(),
  changes: z
    .object({
      before: z.record(z.string(), z.unknown()).optional(),
      after: z.record(z.string(), z.unknown()).optional(),
    })
    .nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  result: auditResultSchema,
  reason: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof auditEntry>;
/**
 * An entry as the log page shows it: the ids resolved to names, as they are now (null when the user,
 * project, environment or deployment is gone; the page then falls back to the label kept in the entry).
 * The export keeps the plain entry, with its ids.
 */
export const auditListEntry = auditEntry.extend({
  actorName: z.string().nullable(),
  organizationName: z.string().nullable(),
  organizationSlug: z.string().nullable(),
  projectName: z.string().nullable(),
  /** The project's organization slug and its own, for a link to the project page. */
  projectPath: z.object({ organizationSlug: z.string(), projectSlug: z.string() }).nullable(),
  environmentId: z.string().nullable(),
  environmentName: z.string().nullable(),
  /** The deployment's #n in its project, when the entry is about a deployment that still exists. */
  deploymentNumber: z.number().nullable(),
});
export type AuditListEntry = z.infer<typeof auditListEntry>;
export const auditFilter = z.object({
  organizationId: uuidSchema.optional(),
  projectId: uuidSchema.optional(),
  actorId: uuidSchema.optional(),
  action: z.string().trim().max(100).optional(),
  resourceType: z.string().trim().max(50).optional(),
  result: auditResultSchema.optional(),
  from: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
  to: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
});
export type AuditFilter = z.infer<typeof auditFilter>;
export const listAuditInput = auditFilter.extend({ cursor: cursorSchema, limit: limitSchema });
export const auditPage = page(auditListEntry);

// ---------- notifications ----------

export const notification = z.object({
  id: z.string(),
  kind: z.string(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
  link: z.string().nullable(),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});
export type Notification = z.infer<typeof notification>;
export const listNotificationsInput = z.object({
  unreadOnly: z.boolean().default(false),
  cursor: cursorSchema,
  limit: limitSchema,
});
export const notificationsPage = page(notification);
export const markNotificationsReadInput = z.object({ ids: z.array(uuidSchema).min(1).max(200) });
export const muteProjectInput = z.object({ projectId: uuidSchema, muted: z.boolean() });
export const mutedProject = z.object({
  projectId: z.string(),
  projectName: z.string(),
  projectSlug: z.string(),
  organizationSlug: z.string(),
});
export type MutedProject = z.infer<typeof mutedProject>;
export const unreadCount = z.object({ count: z.number() });
