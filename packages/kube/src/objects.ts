/** A Kubernetes object as plain data (what YAML manifests hold). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Which object: enough to read, patch or delete it. `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_JUANIE = { [MANAGED_BY_LABEL]: "juanie" } as const;

export function refOf(o: KubeObject | ObjectRef): ObjectRef {
  const name = "metadata" in o ? o.metadata.name : (o as ObjectRef).name;
  const namespace = "metadata" in o ? o.metadata.namespace : (o as ObjectRef).namespace;
  return { apiVersion: o.apiVersion, kind: o.kind, ...(namespace ? { namespace } : {}), name };
}

export function describeRef(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
}
