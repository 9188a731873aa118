import * as c from "@juanie/contracts";
import {
  addProjectMember,
  archiveProject,
  changeProjectMemberRole,
  createProject,
  getProjectAccess,
  getProjectBySlug,
  grantProjectToTeam,
  listProjects,
  removeProjectMember,
  restoreProject,
  revokeProjectFromTeam,
  updateProject,
} from "@juanie/domain";
import { authedProcedure, router } from "../trpc.ts";

const ok = { ok: true as const };

export const projectsRouter = router({
  list: authedProcedure
    .input(c.listProjectsInput)
    .output(c.projectsPage)
    .query(({ ctx, input }) => listProjects(ctx.deps, ctx.actor, input)),
  bySlug: authedProcedure
    .input(c.projectBySlug)
    .output(c.project)
    .query(({ ctx, input }) => getProjectBySlug(ctx.deps, ctx.actor, input)),
  create: authedProcedure
    .meta({ action: "project.create" })
    .input(c.createProjectInput)
    .output(c.project)
    .mutation(({ ctx, input }) => createProject(ctx.deps, ctx.actor, input)),
  update: authedProcedure
    .meta({ action: "project.update" })
    .input(c.updateProjectInput)
    .output(c.project)
    .mutation(({ ctx, input }) => updateProject(ctx.deps, ctx.actor, input)),
  archive: authedProcedure
    .meta({ action: "project.archive" })
    .input(c.projectRef)
    .output(c.project)
    .mutation(({ ctx, input }) => archiveProject(ctx.deps, ctx.actor, input.projectId)),
  restore: authedProcedure
    .meta({ action: "project.restore" })
    .input(c.projectRef)
    .output(c.project)
    .mutation(({ ctx, input }) => restoreProject(ctx.deps, ctx.actor, input.projectId)),
  access: authedProcedure
    .input(c.projectRef)
    .output(c.projectAccess)
    .query(({ ctx, input }) => getProjectAccess(ctx.deps, ctx.actor, input.projectId)),
  addMember: authedProcedure
    .meta({ action: "project.member.add" })
    .input(c.projectMemberInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await addProjectMember(ctx.deps, ctx.actor, input);
      return ok;
    }),
  changeMemberRole: authedProcedure
    .meta({ action: "project.member.change_role" })
    .input(c.projectMemberInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await changeProjectMemberRole(ctx.deps, ctx.actor, input);
      return ok;
    }),
  removeMember: authedProcedure
    .meta({ action: "project.member.remove" })
    .input(c.removeProjectMemberInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await removeProjectMember(ctx.deps, ctx.actor, input);
      return ok;
    }),
  grantTeam: authedProcedure
    .meta({ action: "project.team.grant" })
    .input(c.projectTeamInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await grantProjectToTeam(ctx.deps, ctx.actor, input);
      return ok;
    }),
  revokeTeam: authedProcedure
    .meta({ action: "project.team.revoke" })
    .input(c.revokeProjectTeamInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await revokeProjectFromTeam(ctx.deps, ctx.actor, input);
      return ok;
    }),
});
