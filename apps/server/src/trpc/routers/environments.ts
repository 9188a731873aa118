import * as c from "@juanie/contracts";
import {
  acknowledgeBypass,
  authorizeProject,
  branchProtectionOf,
  checkSuggestedEnvironments,
  createEnvironment,
  createSuggestedBranch,
  createSuggestedEnvironments,
  deleteEnvironment,
  gitopsRemovalPlan,
  listEnvironments,
  reorderEnvironments,
  runEnvironmentFluxAction,
  setEnvironmentGrants,
  updateEnvironment,
} from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, router, toTransportError } from "../trpc.ts";

export const environmentsRouter = router({
  /**
   * Live changes over SSE, `{ environmentId }`, for every environment of a project: its Flux objects
   * or their live status changed. Project readers only; checked again before events (at most every 2 s).
   */
  onChange: authedProcedure.input(c.projectRef).subscription(async function* ({ ctx, input, signal }) {
    try {
      const events = ctx.realtime.events(signal);
      const authorize = () => authorizeProject(ctx.deps.db, ctx.actor, "project.read", input.projectId);
      await authorize();
      let checkedAt = Date.now();
      for await (const event of events) {
        if (event.type !== "environment.changed" || event.projectId !== input.projectId) continue;
        if (Date.now() - checkedAt > 2000) {
          await authorize();
          checkedAt = Date.now();
        }
        yield { environmentId: event.environmentId };
      }
    } catch (error) {
      throw toTransportError(error);
    }
  }),
  list: authedProcedure
    .input(c.projectRef)
    .output(z.array(c.environment))
    .query(({ ctx, input }) => listEnvironments(ctx.deps, ctx.actor, input.projectId)),
  create: authedProcedure
    .meta({ action: "environment.create" })
    .input(c.createEnvironmentInput)
    .output(c.environment)
    .mutation(({ ctx, input }) => createEnvironment(ctx.deps, ctx.actor, input)),
  createSuggested: authedProcedure
    .meta({ action: "environment.create" })
    .input(c.createSuggestedEnvironmentsInput)
    .output(z.array(c.environment))
    .mutation(({ ctx, input }) => createSuggestedEnvironments(ctx.deps, ctx.actor, input)),
  /** The suggestions checked against a connected repository: branch, path, kustomization or manifests. */
  checkSuggested: authedProcedure
    .input(c.checkSuggestedEnvironmentsInput)
    .output(c.suggestionChecks)
    .query(({ ctx, input }) => checkSuggestedEnvironments(ctx.deps, ctx.actor, input)),
  /** Creates a suggestion's missing branch from the default branch's head; answers the checks again. */
  createSuggestedBranch: authedProcedure
    .meta({ action: "repository.create_branch" })
    .input(c.createSuggestedBranchInput)
    .output(c.suggestionChecks)
    .mutation(({ ctx, input }) => createSuggestedBranch(ctx.deps, ctx.actor, input)),
  update: authedProcedure
    .meta({ action: "environment.update" })
    .input(c.updateEnvironmentInput)
    .output(c.environment)
    .mutation(({ ctx, input }) => updateEnvironment(ctx.deps, ctx.actor, input)),
  setGrants: authedProcedure
    .meta({ action: "environment.set_permissions" })
    .input(c.setEnvironmentGrantsInput)
    .output(c.environment)
    .mutation(({ ctx, input }) => setEnvironmentGrants(ctx.deps, ctx.actor, input)),
  /** What turning GitOps off (or moving to another cluster) deletes in the cluster, for the confirmation. */
  gitopsRemovalPlan: authedProcedure
    .input(c.environmentRef)
    .output(c.gitopsRemovalPlan)
    .query(({ ctx, input }) => gitopsRemovalPlan(ctx.deps, ctx.actor, input.environmentId)),
  /** Sync now (with or without the source), suspend, resume. */
  fluxAction: authedProcedure
    .meta({ action: "environment.flux" })
    .input(c.environmentRef.extend({ action: z.enum(["sync", "sync_with_source", "suspend", "resume"]) }))
    .output(z.object({ token: z.string().nullable() }))
    .mutation(({ ctx, input }) => runEnvironmentFluxAction(ctx.deps, ctx.actor, input)),
  /** The promotion order: every environment of the project, first to last. */
  reorder: authedProcedure
    .meta({ action: "environment.reorder" })
    .input(c.reorderEnvironmentsInput)
    .output(z.array(c.environment))
    .mutation(({ ctx, input }) => reorderEnvironments(ctx.deps, ctx.actor, input)),
  /** A maintainer has seen the commits that bypassed the environment's approvals: the warning goes. */
  acknowledgeBypass: authedProcedure
    .meta({ action: "environment.acknowledge_bypass" })
    .input(c.environmentRef)
    .output(c.environment)
    .mutation(({ ctx, input }) => acknowledgeBypass(ctx.deps, ctx.actor, input.environmentId)),
  /** Whether the Git host protects the environment's branch, as far as the repository's credential can tell. */
  branchProtection: authedProcedure
    .input(c.environmentRef)
    .output(c.branchProtection)
    .query(({ ctx, input }) => branchProtectionOf(ctx.deps, ctx.actor, input.environmentId)),
  delete: authedProcedure
    .meta({ action: "environment.delete" })
    .input(c.environmentRef)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await deleteEnvironment(ctx.deps, ctx.actor, input.environmentId);
      return { ok: true as const };
    }),
});
