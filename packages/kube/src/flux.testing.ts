import type { KubeObject } from "./objects.ts";

/** A CRD with an open schema and a status subresource (enough for the API simulator). */
export function crd(group: string, kind: string, plural: string, versions: string[] = ["v1"]): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}`, labels: { "app.kubernetes.io/part-of": "flux" } },
    spec: {
      group,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      scope: "Namespaced",
      versions: versions.map((name, i) => ({
        name,
        served: true,
        storage: i === versions.length - 1,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      })),
    },
  };
}

/**
 * A small Flux-like install manifest written for these tests (not Flux's real one): its CRDs, the
 * flux-system namespace, a ServiceAccount, a ClusterRole + binding and one Deployment per
 * controller, labelled with the Flux version as Flux's own manifests are.
 */
export function miniFluxManifest(
  opts: { version?: string; components?: string[]; controllerTag?: string } = {},
): KubeObject[] {
  const version = opts.version ?? "v2.7.3";
  const tag = opts.controllerTag ?? "v1.7.3";
  const components = opts.components ?? [
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
  ];
  const labels = {
    "app.kubernetes.io/instance": "flux-system",
    "app.kubernetes.io/part-of": "flux",
    "app.kubernetes.io/version": version,
  };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system", labels } },
    crd("source.toolkit.fluxcd.io", "GitRepository", "gitrepositories"),
    crd("source.toolkit.fluxcd.io", "OCIRepository", "ocirepositories"),
    crd("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations"),
    crd("helm.toolkit.fluxcd.io", "HelmRelease", "helmreleases", ["v2"]),
    crd("notification.toolkit.fluxcd.io", "Provider", "providers", ["v1beta3"]),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "crd-controller-flux-system", labels },
      rules: [{ apiGroups: ["source.toolkit.fluxcd.io"], resources: ["*"], verbs: ["*"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "crd-controller-flux-system", labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "crd-controller-flux-system" },
      subjects: components.map((name) => ({ kind: "ServiceAccount", name, namespace: "flux-system" })),
    },
    ...components.map(
      (name): KubeObject => ({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name, namespace: "flux-system", labels },
      }),
    ),
    ...components.map(
      (name): KubeObject => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "flux-system", labels: { ...labels, "app.kubernetes.io/component": name } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              serviceAccountName: name,
              containers: [{ name: "manager", image: `ghcr.io/fluxcd/${name}:${tag}` }],
            },
          },
        },
      }),
    ),
  ];
}
