import type { V1CustomResourceDefinition, V1Deployment } from "@kubernetes/client-node";
import { isClusterError, type KubeCluster } from "./client.ts";
import { MANAGED_BY_LABEL } from "./objects.ts";

export const FLUX_NAMESPACE = "flux-system";
export const FLUX_REQUIRED_COMPONENTS = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
] as const;
export const FLUX_OPTIONAL_COMPONENTS = ["image-reflector-controller", "image-automation-controller"] as const;
export const FLUX_OPERATOR_GROUP = "fluxcd.controlplane.io";
const VERSION_LABEL = "app.kubernetes.io/version";

export interface FluxCrd {
  name: string;
  established: boolean;
  /** Served versions. */
  versions: string[];
}

export interface FluxComponent {
  name: string;
  present: boolean;
  required: boolean;
  ready: boolean;
  replicas: number;
  readyReplicas: number;
  /** Sum of the restart counts of the component's pods' containers. */
  restarts: number;
  version: string | null;
  image: string | null;
  conditions: { type: string; status: string; reason: string; message: string }[];
}

export interface FluxOperatorInstance {
  name: string;
  namespace: string;
  version: string | null;
  ready: boolean;
  message: string;
}

export interface FluxDetection {
  installed: boolean;
  /** The Flux distribution version (v2.7.3), from the `app.kubernetes.io/version` labels. */
  version: string | null;
  namespace: typeof FLUX_NAMESPACE;
  crds: FluxCrd[];
  operator: { present: boolean; instance: FluxOperatorInstance | null };
  components: FluxComponent[];
  /** Installed, every required component present and ready, every CRD established. */
  healthy: boolean;
  managedBy: "juanie" | "operator" | "other";
}

function imageTag(image: string | undefined): string | null {
  if (!image) return null;
  const noDigest = image.split("@")[0]!;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(colon + 1) : null;
}

function crdSummary(crd: V1CustomResourceDefinition): FluxCrd {
  return {
    name: crd.metadata?.name ?? "",
    established: (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True"),
    versions: crd.spec.versions.filter((v) => v.served).map((v) => v.name),
  };
}

/**
 * Finds Flux on a cluster — installed by Juanie, by `flux bootstrap`/`flux install`, or by the Flux
 * Operator — without changing anything: its CRDs, the controllers in flux-system (readiness,
 * restarts, versions) and a FluxInstance if the operator is there.
 */
export async function detectFlux(c: KubeCluster): Promise<FluxDetection> {
  const allCrds = (await c.apiext.listCustomResourceDefinition()).items;
  const fluxCrds = allCrds.filter((crd) => crd.spec.group.endsWith(".toolkit.fluxcd.io"));
  const operatorCrd = allCrds.find((crd) => crd.metadata?.name === `fluxinstances.${FLUX_OPERATOR_GROUP}`);

  let instance: FluxOperatorInstance | null = null;
  if (operatorCrd) {
    const list = (await c.custom.listClusterCustomObject({
      group: FLUX_OPERATOR_GROUP,
      version: "v1",
      plural: "fluxinstances",
    })) as { items?: Record<string, unknown>[] };
    const fi = list.items?.[0] as
      | {
          metadata?: { name?: string; namespace?: string };
          spec?: { distribution?: { version?: string } };
          status?: { lastAppliedRevision?: string; conditions?: { type: string; status: string; message?: string }[] };
        }
      | undefined;
    if (fi) {
      const ready = fi.status?.conditions?.find((x) => x.type === "Ready");
      instance = {
        name: fi.metadata?.name ?? "",
        namespace: fi.metadata?.namespace ?? "",
        version: fi.status?.lastAppliedRevision?.split("@")[0] ?? fi.spec?.distribution?.version ?? null,
        ready: ready?.status === "True",
        message: ready?.message ?? "",
      };
    }
  }

  let nsLabels: Record<string, string> = {};
  try {
    nsLabels = (await c.core.readNamespace({ name: FLUX_NAMESPACE })).metadata?.labels ?? {};
  } catch (e) {
    if (!isClusterError(e, "not_found")) throw e;
  }
  const deployments = new Map<string, V1Deployment>();
  for (const d of (await c.apps.listNamespacedDeployment({ namespace: FLUX_NAMESPACE })).items) {
    deployments.set(d.metadata?.name ?? "", d);
  }

  const components: FluxComponent[] = [];
  const names = [...FLUX_REQUIRED_COMPONENTS, ...FLUX_OPTIONAL_COMPONENTS] as string[];
  for (const name of names) {
    const required = (FLUX_REQUIRED_COMPONENTS as readonly string[]).includes(name);
    const d = deployments.get(name);
    if (!d) {
      components.push({
        name,
        present: false,
        required,
        ready: false,
        replicas: 0,
        readyReplicas: 0,
        restarts: 0,
        version: null,
        image: null,
        conditions: [],
      });
      continue;
    }
    const image = d.spec?.template.spec?.containers[0]?.image ?? null;
    const replicas = d.spec?.replicas ?? 1;
    const readyReplicas = d.status?.readyReplicas ?? 0;
    let restarts = 0;
    const match = d.spec?.selector.matchLabels;
    if (match && Object.keys(match).length > 0) {
      const selector = Object.entries(match)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      const pods = await c.core.listNamespacedPod({ namespace: FLUX_NAMESPACE, labelSelector: selector });
      for (const p of pods.items) {
        for (const s of p.status?.containerStatuses ?? []) restarts += s.restartCount ?? 0;
      }
    }
    components.push({
      name,
      present: true,
      required,
      ready: replicas > 0 && readyReplicas >= replicas,
      replicas,
      readyReplicas,
      restarts,
      version: d.metadata?.labels?.[VERSION_LABEL] ?? nsLabels[VERSION_LABEL] ?? imageTag(image ?? undefined),
      image,
      conditions: (d.status?.conditions ?? []).map((x) => ({
        type: x.type,
        status: x.status,
        reason: x.reason ?? "",
        message: x.message ?? "",
      })),
    });
  }

  const crds = fluxCrds.map(crdSummary).sort((a, b) => a.name.localeCompare(b.name));
  const present = components.filter((x) => x.present);
  const installed = crds.length > 0 || present.length > 0;
  const labelled = present.map((x) => deployments.get(x.name)?.metadata?.labels?.[VERSION_LABEL]).find(Boolean);
  const version = labelled ?? nsLabels[VERSION_LABEL] ?? instance?.version ?? null;
  const managers = [
    nsLabels[MANAGED_BY_LABEL],
    ...present.map((x) => deployments.get(x.name)?.metadata?.labels?.[MANAGED_BY_LABEL]),
  ];
  const managedBy: FluxDetection["managedBy"] =
    instance || managers.includes("flux-operator") ? "operator" : managers.includes("juanie") ? "juanie" : "other";
  const healthy =
    installed &&
    components.filter((x) => x.required).every((x) => x.present && x.ready) &&
    crds.every((x) => x.established);
  return {
    installed,
    version,
    namespace: FLUX_NAMESPACE,
    crds,
    operator: { present: operatorCrd !== undefined, instance },
    components,
    healthy,
    managedBy,
  };
}
