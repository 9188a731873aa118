import * as c from "@juanie/contracts";
import {
  changeOrganizationMemberRole,
  createOrganization,
  deleteOrganization,
  getOrganizationBySlug,
  listOrganizationMembers,
  listOrganizations,
  removeOrganizationMember,
  updateOrganization,
} from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, router } from "../trpc.ts";

const ok = { ok: true as const };

export const orgsRouter = router({
  list: authedProcedure.output(z.array(c.organization)).query(({ ctx }) => listOrganizations(ctx.deps, ctx.actor)),
  bySlug: authedProcedure
    .input(c.orgBySlug)
    .output(c.organization)
    .query(({ ctx, input }) => getOrganizationBySlug(ctx.deps, ctx.actor, input.slug)),
  create: authedProcedure
    .meta({ action: "org.create" })
    .input(c.createOrganizationInput)
    .output(c.organization)
    .mutation(({ ctx, input }) => createOrganization(ctx.deps, ctx.actor, input)),
  update: authedProcedure
    .meta({ action: "org.update" })
    .input(c.updateOrganizationInput)
    .output(c.organization)
    .mutation(({ ctx, input }) => updateOrganization(ctx.deps, ctx.actor, input)),
  delete: authedProcedure
    .meta({ action: "org.delete" })
    .input(c.deleteOrganizationInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await deleteOrganization(ctx.deps, ctx.actor, input);
      return ok;
    }),
  members: authedProcedure
    .input(c.orgRef)
    .output(z.array(c.orgMember))
    .query(({ ctx, input }) => listOrganizationMembers(ctx.deps, ctx.actor, input.organizationId)),
  changeMemberRole: authedProcedure
    .meta({ action: "org.member.change_role" })
    .input(c.changeOrgMemberRoleInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await changeOrganizationMemberRole(ctx.deps, ctx.actor, input);
      return ok;
    }),
  removeMember: authedProcedure
    .meta({ action: "org.member.remove" })
    .input(c.removeOrgMemberInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await removeOrganizationMember(ctx.deps, ctx.actor, input);
      return ok;
    }),
});
