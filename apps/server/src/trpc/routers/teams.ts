import * as c from "@juanie/contracts";
import {
  addTeamMember,
  changeTeamMemberRole,
  createTeam,
  deleteTeam,
  getTeamBySlug,
  listTeamMembers,
  listTeams,
  removeTeamMember,
  updateTeam,
} from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, router } from "../trpc.ts";

const ok = { ok: true as const };

export const teamsRouter = router({
  list: authedProcedure
    .input(c.orgRef)
    .output(z.array(c.team))
    .query(({ ctx, input }) => listTeams(ctx.deps, ctx.actor, input.organizationId)),
  bySlug: authedProcedure
    .input(c.teamBySlug)
    .output(c.team)
    .query(({ ctx, input }) => getTeamBySlug(ctx.deps, ctx.actor, input)),
  create: authedProcedure
    .meta({ action: "team.create" })
    .input(c.createTeamInput)
    .output(c.team)
    .mutation(({ ctx, input }) => createTeam(ctx.deps, ctx.actor, input)),
  update: authedProcedure
    .meta({ action: "team.update" })
    .input(c.updateTeamInput)
    .output(c.team)
    .mutation(({ ctx, input }) => updateTeam(ctx.deps, ctx.actor, input)),
  delete: authedProcedure
    .meta({ action: "team.delete" })
    .input(c.teamRef)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await deleteTeam(ctx.deps, ctx.actor, input.teamId);
      return ok;
    }),
  members: authedProcedure
    .input(c.teamRef)
    .output(z.array(c.teamMember))
    .query(({ ctx, input }) => listTeamMembers(ctx.deps, ctx.actor, input.teamId)),
  addMember: authedProcedure
    .meta({ action: "team.member.add" })
    .input(c.teamMemberInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await addTeamMember(ctx.deps, ctx.actor, input);
      return ok;
    }),
  changeMemberRole: authedProcedure
    .meta({ action: "team.member.change_role" })
    .input(c.teamMemberInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await changeTeamMemberRole(ctx.deps, ctx.actor, input);
      return ok;
    }),
  removeMember: authedProcedure
    .meta({ action: "team.member.remove" })
    .input(c.removeTeamMemberInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await removeTeamMember(ctx.deps, ctx.actor, input);
      return ok;
    }),
});
