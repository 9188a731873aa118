import type { JsonObject } from "./json.ts";

/** A column of `kubectl get`: built-in kinds have fixed ones, CRDs declare additionalPrinterColumns. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** One served resource: its API coordinates and what discovery says about it. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources served besides the object itself. */
  subresources: ("status" | "scale" | "log")[];
  /** Built-in kinds accept strategic merge patch; custom resources do not (as on a real cluster). */
  builtin: boolean;
  /** Bumped on spec changes (objects with a spec/status split). */
  tracksGeneration: boolean;
  columns: PrinterColumn[];
  /** Tables lead with the columns alone, the name last and hidden (Events). */
  nameLast?: boolean;
  /** The CRD's openAPIV3Schema, for list semantics (x-kubernetes-list-type) of custom resources. */
  schema?: JsonObject;
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
export const verbsOf = (_r: ResourceType) => VERBS;

export const groupVersion = (r: { group: string; version: string }) =>
  r.group ? `${r.group}/${r.version}` : r.version;

function builtin(
  gv: string,
  kind: string,
  plural: string,
  opts: {
    namespaced?: boolean;
    shortNames?: string[];
    categories?: string[];
    subresources?: ResourceType["subresources"];
    generation?: boolean;
    columns?: PrinterColumn[];
    nameLast?: boolean;
  } = {},
): ResourceType {
  const [group, version] = gv.includes("/") ? (gv.split("/") as [string, string]) : ["", gv];
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    subresources: opts.subresources ?? [],
    builtin: true,
    tracksGeneration: opts.generation ?? false,
    columns: opts.columns ?? [],
    ...(opts.nameLast ? { nameLast: true } : {}),
  };
}

const col = (name: string, jsonPath: string, type = "string"): PrinterColumn => ({ name, type, jsonPath });

/** The built-in kinds a K3s cluster serves that the platform, Flux's install manifests and kubectl use. */
export function builtinResources(): ResourceType[] {
  return [
    builtin("v1", "Namespace", "namespaces", {
      namespaced: false,
      shortNames: ["ns"],
      subresources: ["status"],
      columns: [col("Status", ".status.phase")],
    }),
    builtin("v1", "ConfigMap", "configmaps", { shortNames: ["cm"], columns: [col("Data", "#data", "integer")] }),
    builtin("v1", "Secret", "secrets", {
      columns: [col("Type", ".type"), col("Data", "#data", "integer")],
    }),
    builtin("v1", "Service", "services", {
      shortNames: ["svc"],
      categories: ["all"],
      subresources: ["status"],
      columns: [
        col("Type", ".spec.type"),
        col("Cluster-IP", ".spec.clusterIP"),
        col("External-IP", "#externalIP"),
        col("Port(s)", "#ports"),
      ],
    }),
    builtin("v1", "ServiceAccount", "serviceaccounts", { shortNames: ["sa"] }),
    builtin("v1", "Pod", "pods", {
      shortNames: ["po"],
      categories: ["all"],
      subresources: ["status", "log"],
      columns: [
        col("Ready", "#ready"),
        col("Status", "#podStatus"),
        col("Restarts", "#restarts", "integer"),
        col("Age", "#age", "date"),
      ],
    }),
    builtin("v1", "Node", "nodes", {
      namespaced: false,
      shortNames: ["no"],
      subresources: ["status"],
      columns: [
        col("Status", "#nodeStatus"),
        col("Roles", "#roles"),
        col("Age", "#age", "date"),
        col("Version", ".status.nodeInfo.kubeletVersion"),
      ],
    }),
    builtin("v1", "Event", "events", {
      shortNames: ["ev"],
      nameLast: true,
      columns: [
        col("Last Seen", "#lastSeen"),
        col("Type", ".type"),
        col("Reason", ".reason"),
        col("Object", "#involvedObject"),
        col("Message", ".message"),
      ],
    }),
    builtin("v1", "Endpoints", "endpoints", { shortNames: ["ep"] }),
    builtin("v1", "PersistentVolumeClaim", "persistentvolumeclaims", { shortNames: ["pvc"], subresources: ["status"] }),
    builtin("v1", "PersistentVolume", "persistentvolumes", {
      namespaced: false,
      shortNames: ["pv"],
      subresources: ["status"],
    }),
    builtin("v1", "ResourceQuota", "resourcequotas", { shortNames: ["quota"], subresources: ["status"] }),
    builtin("v1", "LimitRange", "limitranges", { shortNames: ["limits"] }),
    builtin("apps/v1", "Deployment", "deployments", {
      shortNames: ["deploy"],
      categories: ["all"],
      subresources: ["status", "scale"],
      generation: true,
      columns: [
        col("Ready", "#deployReady"),
        col("Up-to-date", ".status.updatedReplicas", "integer"),
        col("Available", ".status.availableReplicas", "integer"),
      ],
    }),
    builtin("apps/v1", "ReplicaSet", "replicasets", {
      shortNames: ["rs"],
      categories: ["all"],
      subresources: ["status", "scale"],
      generation: true,
    }),
    builtin("apps/v1", "StatefulSet", "statefulsets", {
      shortNames: ["sts"],
      categories: ["all"],
      subresources: ["status", "scale"],
      generation: true,
    }),
    builtin("apps/v1", "DaemonSet", "daemonsets", {
      shortNames: ["ds"],
      categories: ["all"],
      subresources: ["status"],
      generation: true,
    }),
    builtin("batch/v1", "Job", "jobs", { categories: ["all"], subresources: ["status"], generation: true }),
    builtin("batch/v1", "CronJob", "cronjobs", {
      shortNames: ["cj"],
      categories: ["all"],
      subresources: ["status"],
      generation: true,
    }),
    builtin("networking.k8s.io/v1", "Ingress", "ingresses", {
      shortNames: ["ing"],
      subresources: ["status"],
      generation: true,
    }),
    builtin("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", { shortNames: ["netpol"], generation: true }),
    builtin("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", {
      shortNames: ["pdb"],
      subresources: ["status"],
      generation: true,
    }),
    builtin("rbac.authorization.k8s.io/v1", "Role", "roles"),
    builtin("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    builtin("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", { namespaced: false }),
    builtin("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", { namespaced: false }),
    builtin("coordination.k8s.io/v1", "Lease", "leases"),
    builtin("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", {
      namespaced: false,
      shortNames: ["crd", "crds"],
      categories: ["api-extensions"],
      subresources: ["status"],
      generation: true,
      columns: [col("Created At", ".metadata.creationTimestamp", "date")],
    }),
  ];
}

/** Preferred-version order of discovery: GA before beta before alpha, higher numbers first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stage = m[2] === "alpha" ? 1 : m[2] === "beta" ? 2 : 3;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pb[i] ?? 0) - (pa[i] ?? 0);
  return a.localeCompare(b);
}
