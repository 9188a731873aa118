import * as c from "@juanie/contracts";
import {
  approveDeployment,
  authorizeDeploymentsOf,
  breakGlassDeployment,
  cancelDeployment,
  createManualDeployment,
  getDeployableValues,
  getDeployment,
  listDeployments,
  previewDeployment,
  previewRollback,
  rejectDeployment,
  reportManualDeployment,
  requestDeployment,
  requestDeploymentAgain,
  retryDeployment,
  rollbackDeployment,
} from "@juanie/domain";
import { deploySpecRules, deploySpecSchema, isDnsLabel, isDnsSubdomain, workloadKinds } from "@juanie/manifests";
import { z } from "zod";
import { authedProcedure, router, toTransportError } from "../trpc.ts";

const deployInput = z.object({
  environmentId: c.uuidSchema,
  spec: deploySpecSchema,
  message: z.string().trim().max(5000, { message: "must be at most 5000 characters" }).optional(),
  /** "Promote to …": the deployment of the earlier environment whose values this request carries on. */
  promotedFromId: c.uuidSchema.optional(),
});

const workloadTarget = z.object({ kind: z.enum(workloadKinds), workload: z.string(), container: z.string() });

const renderCheck = z.discriminatedUnion("verified", [
  z.object({
    verified: z.literal(true),
    tool: z.string(),
    diff: z.string(),
    before: z.string(),
    after: z.string(),
    ms: z.number(),
  }),
  z.object({ verified: z.literal(false), reason: z.string() }),
]);

const deployableValuesInput = z
  .object({
    environmentId: c.uuidSchema,
    kind: z.enum(workloadKinds, { message: deploySpecRules.kind }).optional(),
    workload: z.string().refine(isDnsSubdomain, { message: deploySpecRules.workload }).optional(),
    container: z.string().refine(isDnsLabel, { message: deploySpecRules.container }).optional(),
  })
  .strict();

const preview = z.object({
  baseSha: z.string(),
  branch: z.string(),
  path: z.string(),
  diff: z.string(),
  changedFiles: z.array(z.string()),
  files: z.record(z.string(), z.string().nullable()),
  fields: z.array(c.fieldChange),
  commitMessage: z.string(),
  approvalRequired: z.boolean(),
  /** The workload and container the change applies to. */
  target: workloadTarget,
  /** Whether the real kustomize checked the change, and the rendered workload before/after. */
  render: renderCheck,
});

const changesInput = z.union([
  z.object({ deploymentId: c.uuidSchema }).strict(),
  z.object({ projectId: c.uuidSchema }).strict(),
]);

export const deploymentsRouter = router({
  /**
   * Live changes over SSE, `{ deploymentId, environmentId, status }`: of one deployment (its current
   * status first), or of every deployment of a project. Access is checked again before events (at most every 2 s).
   */
  onChange: authedProcedure.input(changesInput).subscription(async function* ({ ctx, input, signal }) {
    // Errors thrown while streaming do not pass the procedure's middlewares: mapped here.
    try {
      // Listen before reading, so a change committed in between is not lost.
      const events = ctx.realtime.events(signal);
      let projectId: string;
      if ("deploymentId" in input) {
        const d = await getDeployment(ctx.deps, ctx.actor, input.deploymentId);
        projectId = d.projectId;
        yield { deploymentId: d.id, environmentId: d.environment.id, status: d.status };
      } else {
        projectId = input.projectId;
        await authorizeDeploymentsOf(ctx.deps, ctx.actor, projectId);
      }
      let checkedAt = Date.now();
      for await (const event of events) {
        if (event.type !== "deployment.changed" || event.projectId !== projectId) continue;
        if ("deploymentId" in input && event.deploymentId !== input.deploymentId) continue;
        // Access taken away while the stream is open ends it (checked again at most every 2 s).
        if (Date.now() - checkedAt > 2000) {
          await authorizeDeploymentsOf(ctx.deps, ctx.actor, projectId);
          checkedAt = Date.now();
        }
        yield { deploymentId: event.deploymentId, environmentId: event.environmentId, status: event.status };
      }
    } catch (error) {
      throw toTransportError(error);
    }
  }),
  list: authedProcedure
    .input(c.listDeploymentsInput)
    .output(c.deploymentsPage)
    .query(({ ctx, input }) => listDeployments(ctx.deps, ctx.actor, input)),
  get: authedProcedure
    .input(c.deploymentRef)
    .output(c.deploymentDetail)
    .query(({ ctx, input }) => getDeployment(ctx.deps, ctx.actor, input.deploymentId)),
  deployableValues: authedProcedure
    .input(deployableValuesInput)
    .output(
      z.object({
        branch: z.string(),
        branchExists: z.boolean(),
        head: z.string(),
        values: z.record(z.string(), z.unknown()),
        render: z.discriminatedUnion("verified", [
          z.object({ verified: z.literal(true), tool: z.string() }),
          z.object({ verified: z.literal(false), reason: z.string() }),
        ]),
      }),
    )
    .query(({ ctx, input }) => getDeployableValues(ctx.deps, ctx.actor, input)),
  /** Dry run: the exact YAML and diff the commit would contain. Changes nothing. */
  preview: authedProcedure
    .input(deployInput)
    .output(preview)
    .mutation(({ ctx, input }) => previewDeployment(ctx.deps, ctx.actor, input)),
  request: authedProcedure
    .meta({ action: "deployment.request" })
    .input(deployInput)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => requestDeployment(ctx.deps, ctx.actor, input)),
  approve: authedProcedure
    .meta({ action: "deployment.approve" })
    .input(c.approvalInput)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => approveDeployment(ctx.deps, ctx.actor, input)),
  /** Break glass: an organization admin approves with a reason, regardless of the quorum. */
  breakGlass: authedProcedure
    .meta({ action: "deployment.approve_break_glass" })
    .input(c.breakGlassInput)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => breakGlassDeployment(ctx.deps, ctx.actor, input)),
  /** The same change requested again under the environment's current rule (cancelled, rejected or expired). */
  requestAgain: authedProcedure
    .meta({ action: "deployment.request" })
    .input(c.deploymentRef)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => requestDeploymentAgain(ctx.deps, ctx.actor, input)),
  reject: authedProcedure
    .meta({ action: "deployment.reject" })
    .input(c.rejectionInput)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => rejectDeployment(ctx.deps, ctx.actor, input)),
  cancel: authedProcedure
    .meta({ action: "deployment.cancel" })
    .input(c.deploymentRef)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => cancelDeployment(ctx.deps, ctx.actor, input.deploymentId)),
  /** A deployment stuck in queued or committing (a crash): its commit job runs again, reconciling first. */
  retry: authedProcedure
    .meta({ action: "deployment.retry" })
    .input(c.deploymentRef)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => retryDeployment(ctx.deps, ctx.actor, input.deploymentId)),
  /** What a rollback to this deployment would undo (deployments, commits, files, rendered). Changes nothing. */
  rollbackPreview: authedProcedure
    .input(z.object({ deploymentId: c.uuidSchema }))
    .output(c.rollbackPreview)
    .query(({ ctx, input }) => previewRollback(ctx.deps, ctx.actor, input)),
  rollback: authedProcedure
    .meta({ action: "deployment.rollback" })
    .input(c.rollbackInput)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => rollbackDeployment(ctx.deps, ctx.actor, input)),
  createManual: authedProcedure
    .meta({ action: "deployment.manual" })
    .input(c.manualDeploymentInput)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => createManualDeployment(ctx.deps, ctx.actor, input)),
  reportManual: authedProcedure
    .meta({ action: "deployment.manual_status" })
    .input(c.manualStatusInput)
    .output(c.deploymentDetail)
    .mutation(({ ctx, input }) => reportManualDeployment(ctx.deps, ctx.actor, input)),
});
