import * as c from "@juanie/contracts";
import {
  connectRepository,
  createRepository,
  disconnectRepository,
  getRepositoryDetails,
  initializeRepositoryLayout,
  listRepositories,
  regenerateWebhookSecret,
  revealWebhookSecret,
  updateRepositoryCredential,
} from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, router } from "../trpc.ts";

export const repositoriesRouter = router({
  list: authedProcedure
    .input(c.projectRef)
    .output(z.array(c.repository))
    .query(({ ctx, input }) => listRepositories(ctx.deps, ctx.actor, input.projectId)),
  details: authedProcedure
    .input(c.repositoryRef)
    .output(c.repositoryDetails)
    .query(({ ctx, input }) => getRepositoryDetails(ctx.deps, ctx.actor, input.repositoryId)),
  connect: authedProcedure
    .meta({ action: "repository.connect" })
    .input(c.connectRepositoryInput)
    .output(c.repository)
    .mutation(({ ctx, input }) => connectRepository(ctx.deps, ctx.actor, input)),
  create: authedProcedure
    .meta({ action: "repository.connect" })
    .input(c.createRepositoryInput)
    .output(c.repository)
    .mutation(({ ctx, input }) => createRepository(ctx.deps, ctx.actor, input)),
  initializeLayout: authedProcedure
    .meta({ action: "repository.initialize" })
    .input(c.initializeLayoutInput)
    .output(z.object({ commitSha: z.string().nullable() }))
    .mutation(({ ctx, input }) => initializeRepositoryLayout(ctx.deps, ctx.actor, input)),
  updateCredential: authedProcedure
    .meta({ action: "repository.update_credential" })
    .input(c.repositoryRef.extend({ credential: c.repositoryCredentialInput }))
    .output(c.repository)
    .mutation(({ ctx, input }) => updateRepositoryCredential(ctx.deps, ctx.actor, input)),
  revealWebhookSecret: authedProcedure
    .meta({ action: "repository.reveal_webhook_secret" })
    .input(c.repositoryRef)
    .output(c.webhookSecret)
    .mutation(({ ctx, input }) => revealWebhookSecret(ctx.deps, ctx.actor, input.repositoryId)),
  regenerateWebhookSecret: authedProcedure
    .meta({ action: "repository.regenerate_webhook_secret" })
    .input(c.repositoryRef)
    .output(c.webhookSecret)
    .mutation(({ ctx, input }) => regenerateWebhookSecret(ctx.deps, ctx.actor, input.repositoryId)),
  disconnect: authedProcedure
    .meta({ action: "repository.disconnect" })
    .input(c.repositoryRef)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await disconnectRepository(ctx.deps, ctx.actor, input.repositoryId);
      return { ok: true as const };
    }),
});
