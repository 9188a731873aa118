import type { Cluster } from "@juanie/contracts";

export const connectionTypes = ["kubeconfig", "in_cluster"] as const;
export type ConnectionType = (typeof connectionTypes)[number];

export interface ClusterForm {
  name: string;
  description: string;
  connectionType: ConnectionType;
  /** Pasted or read from a file; never stored by the browser beyond this form. */
  kubeconfig: string;
  /** "" = the kubeconfig's current-context. */
  context: string;
  /** "" = none. */
  fluxMirrorUrl: string;
  /** Editing: send new credentials (otherwise the stored ones stay). */
  replaceConnection: boolean;
}

export function newClusterForm(): ClusterForm {
  return {
    name: "",
    description: "",
    connectionType: "kubeconfig",
    kubeconfig: "",
    context: "",
    fluxMirrorUrl: "",
    replaceConnection: true,
  };
}

export function formFromCluster(cluster: Cluster): ClusterForm {
  return {
    name: cluster.name,
    description: cluster.description ?? "",
    connectionType: cluster.connection,
    kubeconfig: "",
    context: cluster.context ?? "",
    fluxMirrorUrl: cluster.fluxMirrorUrl ?? "",
    replaceConnection: false,
  };
}

function connectionInput(form: ClusterForm) {
  if (form.connectionType === "in_cluster") return { type: "in_cluster" as const };
  return { type: "kubeconfig" as const, kubeconfig: form.kubeconfig, context: form.context.trim() || null };
}

/** As `clusters.register` takes it. */
export function registerClusterInput(organizationId: string, form: ClusterForm) {
  return {
    organizationId,
    name: form.name.trim(),
    description: form.description.trim() || null,
    connection: connectionInput(form),
  };
}

/** As `clusters.update` takes it: the credentials only when replaced. */
export function updateClusterInput(clusterId: string, form: ClusterForm) {
  return {
    clusterId,
    name: form.name.trim(),
    description: form.description.trim() || null,
    fluxMirrorUrl: form.fluxMirrorUrl.trim() || null,
    ...(form.replaceConnection ? { connection: connectionInput(form) } : {}),
  };
}
