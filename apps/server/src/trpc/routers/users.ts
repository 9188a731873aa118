import * as c from "@juanie/contracts";
import { changePassword, searchUsers, unlinkOAuthAccount, updateProfile } from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, router } from "../trpc.ts";

export const usersRouter = router({
  updateProfile: authedProcedure
    .meta({ action: "user.update_profile" })
    .input(c.updateProfileInput)
    .output(c.me)
    .mutation(({ ctx, input }) => updateProfile(ctx.deps, ctx.actor, input)),
  changePassword: authedProcedure
    .meta({ action: "user.change_password" })
    .input(c.changePasswordInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await changePassword(ctx.deps, ctx.actor, input);
      return { ok: true as const };
    }),
  unlinkProvider: authedProcedure
    .meta({ action: "auth.oauth_unlink" })
    .input(z.object({ provider: c.oauthProviderSchema }))
    .output(c.me)
    .mutation(({ ctx, input }) => unlinkOAuthAccount(ctx.deps, ctx.actor, input.provider)),
  search: authedProcedure
    .input(c.userSearchInput)
    .output(z.array(c.userSummary))
    .query(({ ctx, input }) => searchUsers(ctx.deps, ctx.actor, input)),
});
