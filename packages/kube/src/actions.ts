import { assertObjectIdentity, getObject, mergePatchObject } from "./apply.ts";
import { ClusterError, type KubeCluster } from "./client.ts";
import { describeRef, type KubeObject, type ObjectRef } from "./objects.ts";

export const RECONCILE_ANNOTATION = "reconcile.fluxcd.io/requestedAt";
const SOURCE_API = "source.toolkit.fluxcd.io/v1";

/**
 * An RFC3339Nano timestamp (UTC, trailing zeros trimmed, as Go prints it). Without `now`, the
 * sub-millisecond digits come from the monotonic clock so two requests never share a token.
 */
export function reconcileToken(now?: Date): string {
  const base = (now ?? new Date()).toISOString(); // 2026-12-03T16:30:00.123Z
  const ms = base.slice(20, 23);
  const sub = now ? "" : String(process.hrtime.bigint() % 1_000_000n).padStart(6, "0");
  const frac = `${ms}${sub}`.replace(/0+$/, "");
  return `${base.slice(0, 19)}${frac ? `.${frac}` : ""}Z`;
}

async function mergePatch(c: KubeCluster, ref: ObjectRef, patch: Record<string, unknown>): Promise<KubeObject> {
  return await mergePatchObject(c, ref, patch);
}

/** The source object a Flux Kustomization or HelmRelease reads from. */
export function sourceRefOf(o: KubeObject): ObjectRef | null {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const hr = ((spec.chart as Record<string, unknown> | undefined)?.spec as Record<string, unknown> | undefined)
    ?.sourceRef;
  const raw = (spec.sourceRef ?? spec.chartRef ?? hr) as
    | { apiVersion?: string; kind?: string; name?: string; namespace?: string }
    | undefined;
  if (!raw?.kind || !raw.name) return null;
  const namespace = raw.namespace ?? o.metadata.namespace;
  return {
    apiVersion: raw.apiVersion ?? SOURCE_API,
    kind: raw.kind,
    name: raw.name,
    ...(namespace ? { namespace } : {}),
  };
}

/**
 * "Sync now": merge-patches `reconcile.fluxcd.io/requestedAt` with a fresh token. Flux has handled
 * the request when the object's `status.lastHandledReconcileAt` equals the returned token. With
 * `withSource`, the object's source (GitRepository, …) gets the same request first.
 */
export async function requestReconcile(
  c: KubeCluster,
  ref: ObjectRef,
  opts: { withSource?: boolean; now?: Date } = {},
): Promise<{ token: string; source?: ObjectRef }> {
  assertObjectIdentity(ref);
  const token = reconcileToken(opts.now);
  const annotate = { metadata: { annotations: { [RECONCILE_ANNOTATION]: token } } };
  let source: ObjectRef | undefined;
  if (opts.withSource) {
    const o = await getObject(c, ref);
    if (!o) throw new ClusterError("not_found", `${describeRef(ref)} does not exist`);
    source = sourceRefOf(o) ?? undefined;
    if (!source) throw new ClusterError("invalid", `${describeRef(ref)} has no source reference`);
    await mergePatch(c, source, annotate);
  }
  await mergePatch(c, ref, annotate);
  return { token, ...(source ? { source } : {}) };
}

/** Suspends or resumes a Flux object (`spec.suspend`); resuming also requests a reconciliation. */
export async function setSuspended(
  c: KubeCluster,
  ref: ObjectRef,
  suspended: boolean,
  opts: { now?: Date } = {},
): Promise<{ token?: string }> {
  assertObjectIdentity(ref);
  if (suspended) {
    await mergePatch(c, ref, { spec: { suspend: true } });
    return {};
  }
  const token = reconcileToken(opts.now);
  await mergePatch(c, ref, { spec: { suspend: false }, metadata: { annotations: { [RECONCILE_ANNOTATION]: token } } });
  return { token };
}
