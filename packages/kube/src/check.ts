import type { KubeCluster } from "./client.ts";
import { isClusterError } from "./client.ts";

/** The marker ConfigMap the Juanie simulator serves (kept in sync with @juanie/kube-sim by a test). */
export const SIMULATOR_MARKER = { namespace: "kube-public", name: "juanie-simulator" } as const;
export const SIMULATOR_VERSION_SUFFIX = "+juanie-simulator";

export interface ClusterCheck {
  gitVersion: string;
  major: string;
  minor: string;
  platform: string;
  /** True for the Juanie Kubernetes API simulator (a test/demo cluster, not a real one). */
  simulated: boolean;
  nodes: { total: number; ready: number };
  /** Absent when the credentials may not list namespaces. */
  namespaces?: number;
}

/**
 * Connects to the cluster and reads what a user wants to see before saving it: the server version,
 * the nodes (and how many are Ready), the number of namespaces. Fails with a ClusterError
 * (unreachable, tls, unauthorized, forbidden, timeout…).
 */
export async function checkCluster(c: KubeCluster): Promise<ClusterCheck> {
  const version = await c.version.getCode();
  // /version is public on most clusters: listing nodes is what proves the credentials.
  const nodes = await c.core.listNode({ limit: 500 });
  const ready = nodes.items.filter((n) =>
    (n.status?.conditions ?? []).some((cond) => cond.type === "Ready" && cond.status === "True"),
  ).length;
  let namespaces: number | undefined;
  try {
    namespaces = (await c.core.listNamespace({ limit: 1000 })).items.length;
  } catch (e) {
    if (!isClusterError(e, "forbidden")) throw e;
  }
  let simulated = version.gitVersion.includes(SIMULATOR_VERSION_SUFFIX);
  if (!simulated) {
    try {
      await c.core.readNamespacedConfigMap(SIMULATOR_MARKER);
      simulated = true;
    } catch (e) {
      if (!isClusterError(e, "not_found", "forbidden")) throw e;
    }
  }
  return {
    gitVersion: version.gitVersion,
    major: version.major,
    minor: version.minor,
    platform: version.platform,
    simulated,
    nodes: { total: nodes.items.length, ready },
    ...(namespaces !== undefined ? { namespaces } : {}),
  };
}
