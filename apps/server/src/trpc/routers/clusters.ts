import * as c from "@juanie/contracts";
import {
  adoptFlux,
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
import { authedProcedure, router } from "../trpc.ts";

export const clustersRouter = router({
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
