import type https from "node:https";
import type { KubeSim } from "@juanie/kube-sim";
import { applyObjects } from "./apply.ts";
import { isClusterError, KubeCluster } from "./client.ts";
import type { KubeObject } from "./objects.ts";

/** A KubeCluster for a simulated cluster (admin token unless another is given). */
export function simCluster(sim: KubeSim, opts: { token?: string; requestTimeoutMs?: number } = {}): KubeCluster {
  return new KubeCluster(
    { kind: "kubeconfig", kubeconfig: sim.kubeconfig(opts.token ? { token: opts.token } : {}) },
    opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {},
  );
}

/** Records every HTTP request the simulator receives (method and path), to prove a call sent none. */
export function recordRequests(sim: KubeSim): { requests: string[]; stop(): void } {
  const server = (sim.server as unknown as { server: https.Server }).server;
  const requests: string[] = [];
  const listener = (req: { method?: string; url?: string }) => requests.push(`${req.method} ${req.url}`);
  server.on("request", listener);
  return { requests, stop: () => server.off("request", listener) };
}

/**
 * Applies objects as someone else would (`kubectl apply --server-side`, no Juanie labels), retrying
 * kinds that are not served yet (a CRD just created) until a deadline.
 */
export async function applyAsOther(c: KubeCluster, objects: KubeObject[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const o of objects) {
    for (;;) {
      try {
        await applyObjects(c, [o], { fieldManager: "kubectl" });
        break;
      } catch (e) {
        if (!isClusterError(e, "not_found") || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}
