import * as c from "@juanie/contracts";
import {
  acceptInvitation,
  createInvitation,
  declineInvitation,
  getInvitationByToken,
  listMyInvitations,
  listOrganizationInvitations,
  revokeInvitation,
} from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, publicProcedure, router } from "../trpc.ts";

const accepted = z.object({ organizationSlug: z.string() });

export const invitationsRouter = router({
  create: authedProcedure
    .meta({ action: "invitation.create" })
    .input(c.createInvitationInput)
    .output(c.createdInvitation)
    .mutation(({ ctx, input }) => createInvitation(ctx.deps, ctx.actor, input)),
  listForOrg: authedProcedure
    .input(c.orgRef)
    .output(z.array(c.invitation))
    .query(({ ctx, input }) => listOrganizationInvitations(ctx.deps, ctx.actor, input.organizationId)),
  revoke: authedProcedure
    .meta({ action: "invitation.revoke" })
    .input(c.invitationRef)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await revokeInvitation(ctx.deps, ctx.actor, input.invitationId);
      return { ok: true as const };
    }),
  mine: authedProcedure.output(z.array(c.invitation)).query(({ ctx }) => listMyInvitations(ctx.deps, ctx.actor)),
  /** The invitation page shows who invited whom before the visitor has an account. */
  byToken: publicProcedure
    .input(c.invitationToken)
    .output(c.invitation)
    .query(({ ctx, input }) => getInvitationByToken(ctx.deps, input.token)),
  accept: authedProcedure
    .meta({ action: "invitation.accept" })
    .input(c.invitationRef)
    .output(accepted)
    .mutation(({ ctx, input }) => acceptInvitation(ctx.deps, ctx.actor, input)),
  acceptByToken: authedProcedure
    .meta({ action: "invitation.accept" })
    .input(c.invitationToken)
    .output(accepted)
    .mutation(({ ctx, input }) => acceptInvitation(ctx.deps, ctx.actor, input)),
  decline: authedProcedure
    .meta({ action: "invitation.decline" })
    .input(c.invitationRef)
    .output(accepted)
    .mutation(({ ctx, input }) => declineInvitation(ctx.deps, ctx.actor, input)),
});
