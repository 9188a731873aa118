// Health checks of the simulated kustomize-controller (test tooling): kstatus-like readiness of workloads,
// and the error strings of Flux's ssa.WaitForSet ("timeout waiting for: [Deployment/ns/name status: 'InProgress']").
import { type KubeObject, obj } from "../json.ts";
import { findCondition } from "./conditions.ts";
import type { FluxSimulator } from "./controllers.ts";

export interface HealthTarget {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
}

type Status = "Current" | "InProgress" | "Failed" | "NotFound";

/** kstatus for the kinds the simulator runs; other kinds are Current once they exist. */
export function workloadStatus(o: KubeObject | undefined): Status {
  if (!o) return "NotFound";
  if (o.metadata.deletionTimestamp) return "InProgress";
  const spec = obj(o.spec) ?? {};
  const status = obj(o.status) ?? {};
  // Only Deployments get pods in the simulated cluster (its workload controller runs nothing else).
  if (o.kind === "Deployment" && o.apiVersion === "apps/v1") {
    const progressing = findCondition(o.status, "Progressing");
    if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") return "Failed";
    const desired = Number(spec.replicas ?? 1);
    if (Number(status.observedGeneration ?? 0) < Number(o.metadata.generation ?? 1)) return "InProgress";
    const updated = Number(status.updatedReplicas ?? 0);
    // kstatus: every replica updated, no old replica left, and the updated ones ready and available.
    if (Number(status.replicas ?? 0) < desired || updated < desired) return "InProgress";
    if (Number(status.replicas ?? 0) > updated) return "InProgress";
    if (Number(status.readyReplicas ?? 0) < desired) return "InProgress";
    if (Number(status.availableReplicas ?? 0) < updated) return "InProgress";
    return "Current";
  }
  if (o.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/") || o.apiVersion.startsWith("source.toolkit.fluxcd.io/")) {
    const ready = findCondition(o.status, "Ready");
    if (ready?.status === "True") return "Current";
    return findCondition(o.status, "Stalled")?.status === "True" ? "Failed" : "InProgress";
  }
  return "Current";
}

/**
 * Waits until every target is Current, polling every `pollMs`; returns undefined when healthy, else the
 * message Flux's health checker gives (timeout, or failed early on stalled resources).
 */
export async function checkHealth(
  sim: FluxSimulator,
  targets: HealthTarget[],
  timeoutMs: number,
  /** Polled between checks: a message when a newer reconciliation should replace this one. */
  canceled: () => string | undefined = () => undefined,
): Promise<string | undefined | { canceled: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = targets.map((t) => {
      const type = sim.store.findKind(t.apiVersion, t.kind);
      const o = type ? sim.store.tryGet(type, type.namespaced ? t.namespace : undefined, t.name) : undefined;
      return { id: `${t.kind}/${t.namespace ? `${t.namespace}/` : ""}${t.name}`, status: workloadStatus(o) };
    });
    const pending = states.filter((s) => s.status !== "Current");
    if (pending.length === 0) return undefined;
    const failed = pending.filter((s) => s.status === "Failed");
    const list = (xs: typeof states) => xs.map((s) => `${s.id} status: '${s.status}'`).join(", ");
    if (failed.length > 0) return `failed early due to stalled resources: [${list(failed)}]`;
    if (Date.now() >= deadline) return `timeout waiting for: [${list(pending)}]`;
    const cancel = canceled();
    if (cancel) return { canceled: cancel };
    await sim.sleep(Math.min(sim.pollMs, Math.max(1, deadline - Date.now())));
    if (sim.isStopped) return "the simulator stopped";
  }
}
