import * as c from "@juanie/contracts";
import { getMe, needsSetup, setupAdministrator, signInWithPassword, signOut, signUp } from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, publicProcedure, router } from "../trpc.ts";

export const authRouter = router({
  setupStatus: publicProcedure.output(c.setupStatus).query(async ({ ctx }) => ({
    needsSetup: await needsSetup(ctx.deps),
    oauthProviders: ctx.oauthProviders,
  })),
  setup: publicProcedure
    .meta({ public: true, action: "auth.setup" })
    .input(c.setupInput)
    .output(c.me)
    .mutation(async ({ ctx, input }) => {
      const { me, session } = await setupAdministrator(ctx.deps, ctx.origin, input);
      ctx.setSessionCookie(session.token, session.expiresAt);
      return me;
    }),
  signIn: publicProcedure
    .meta({ public: true, action: "auth.sign_in" })
    .input(c.signInInput)
    .output(c.me)
    .mutation(async ({ ctx, input }) => {
      const { me, session } = await signInWithPassword(ctx.deps, ctx.origin, input);
      ctx.setSessionCookie(session.token, session.expiresAt);
      return me;
    }),
  signUp: publicProcedure
    .meta({ public: true, action: "auth.sign_up" })
    .input(c.signUpInput.extend({ invitationToken: z.string().max(200).nullish() }))
    .output(c.me)
    .mutation(async ({ ctx, input }) => {
      const { me, session } = await signUp(ctx.deps, ctx.origin, input);
      ctx.setSessionCookie(session.token, session.expiresAt);
      return me;
    }),
  signOut: authedProcedure
    .meta({ action: "auth.sign_out" })
    .output(c.okSchema)
    .mutation(async ({ ctx }) => {
      if (ctx.sessionToken) await signOut(ctx.deps, ctx.actor, ctx.sessionToken);
      ctx.clearSessionCookie();
      return { ok: true as const };
    }),
  me: publicProcedure.output(c.me.nullable()).query(({ ctx }) => (ctx.user ? getMe(ctx.deps, ctx.user.id) : null)),
});
