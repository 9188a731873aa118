import * as c from "@juanie/contracts";
import {
  adoptFlux,
  authorizeCluster,
  authorizeOrg,
  checkClusterNow,
  deleteCluster,
  getCluster,
  getFluxStatus,
  installFlux,
  listClusters,
  planFluxUninstall,
  registerCluster,
  restoreFlux,
  uninstallFlux,
  updateCluster,
} from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, router, toTransportError } from "../trpc.ts";

const changesInput = z.union([c.orgRef.strict(), c.clusterRef.strict()]);

export const clustersRouter = router({
  /**
   * Live changes over SSE, `{ clusterId }`: of one cluster or of every cluster of an organization
   * (connection, Flux, a Flux operation's progress). Readers refetch what they show. Access is
   * checked again before events (at most every 2 s).
   */
  onChange: authedProcedure.input(changesInput).subscription(async function* ({ ctx, input, signal }) {
    try {
      // Listen before authorizing, so a change committed in between is not lost.
      const events = ctx.realtime.events(signal);
      const organizationId =
        "clusterId" in input
          ? (await authorizeCluster(ctx.deps.db, ctx.actor, "cluster.read", input.clusterId)).organizationId
          : input.organizationId;
      const authorize = () => authorizeOrg(ctx.deps.db, ctx.actor, "cluster.read", organizationId);
      await authorize();
      let checkedAt = Date.now();
      for await (const event of events) {
        if (event.type !== "cluster.changed" || event.organizationId !== organizationId) continue;
        if ("clusterId" in input && event.clusterId !== input.clusterId) continue;
        if (Date.now() - checkedAt > 2000) {
          await authorize();
          checkedAt = Date.now();
        }
        yield { clusterId: event.clusterId };
      }
    } catch (error) {
      throw toTransportError(error);
    }
  }),
  list: authedProcedure
    .input(c.orgRef)
    .output(z.array(c.cluster))
    .query(({ ctx, input }) => listClusters(ctx.deps, ctx.actor, input.organizationId)),
  get: authedProcedure
    .input(c.clusterRef)
    .output(c.cluster)
    .query(({ ctx, input }) => getCluster(ctx.deps, ctx.actor, input.clusterId)),
  register: authedProcedure
    .meta({ action: "cluster.register" })
    .input(c.registerClusterInput)
    .output(c.cluster)
    .mutation(({ ctx, input }) => registerCluster(ctx.deps, ctx.actor, input)),
  update: authedProcedure
    .meta({ action: "cluster.update" })
    .input(c.updateClusterInput)
    .output(c.cluster)
    .mutation(({ ctx, input }) => updateCluster(ctx.deps, ctx.actor, input)),
  check: authedProcedure
    .meta({ action: "cluster.check" })
    .input(c.clusterRef)
    .output(c.cluster)
    .mutation(({ ctx, input }) => checkClusterNow(ctx.deps, ctx.actor, input.clusterId)),
  delete: authedProcedure
    .meta({ action: "cluster.delete" })
    .input(c.clusterRef)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await deleteCluster(ctx.deps, ctx.actor, input.clusterId);
      return { ok: true as const };
    }),
  flux: authedProcedure
    .input(c.clusterRef)
    .output(c.fluxStatus)
    .query(({ ctx, input }) => getFluxStatus(ctx.deps, ctx.actor, input.clusterId)),
  installFlux: authedProcedure
    .meta({ action: "flux.install" })
    .input(c.installFluxInput)
    .output(c.fluxOperation)
    .mutation(({ ctx, input }) => installFlux(ctx.deps, ctx.actor, input)),
  restoreFlux: authedProcedure
    .meta({ action: "flux.upgrade" })
    .input(c.clusterRef.extend({ operationId: c.uuidSchema }))
    .output(c.fluxOperation)
    .mutation(({ ctx, input }) => restoreFlux(ctx.deps, ctx.actor, input)),
  adoptFlux: authedProcedure
    .meta({ action: "flux.adopt" })
    .input(c.clusterRef)
    .output(c.fluxOperation)
    .mutation(({ ctx, input }) => adoptFlux(ctx.deps, ctx.actor, input.clusterId)),
  uninstallPlan: authedProcedure
    .input(c.clusterRef)
    .output(c.fluxUninstallPlan.extend({ environments: z.array(z.string()) }))
    .query(({ ctx, input }) => planFluxUninstall(ctx.deps, ctx.actor, input.clusterId)),
  uninstallFlux: authedProcedure
    .meta({ action: "flux.uninstall" })
    .input(c.uninstallFluxInput)
    .output(c.fluxOperation)
    .mutation(({ ctx, input }) => uninstallFlux(ctx.deps, ctx.actor, input)),
});
