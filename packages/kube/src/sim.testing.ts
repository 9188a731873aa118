import type https from "node:https";
import type { KubeSim } from "@juanie/kube-sim";
import { KubeCluster } from "./client.ts";

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
