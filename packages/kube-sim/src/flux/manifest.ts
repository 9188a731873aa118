// The install manifest of the simulated Flux (test tooling and demo aid): the shape of Flux's release
// `install.yaml` (Namespace, CRDs, RBAC, Services, the four controller Deployments), built as objects and
// stringified with `yaml`. Applying it to the Kubernetes API simulator "installs" Flux: the FluxSimulator
// acts as each controller once its Deployment has ready pods.
import http from "node:http";
import { stringify } from "yaml";
import type { JsonObject } from "../json.ts";
import { controllerVersions, DEFAULT_FLUX_VERSION, FLUX_CONTROLLERS, type FluxController } from "./versions.ts";

export const FLUX_NAMESPACE = "flux-system";
/** On every object of the manifest: says it is the Juanie simulator's manifest, not an official release. */
export const SIMULATED_MANIFEST_ANNOTATION = "kube-sim.juanie.dev/simulated-flux";

interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  /** Served versions, the storage one first. */
  versions: string[];
  /** Versions without a status subresource (notification v1beta3 Alert/Provider have none). */
  noStatus?: string[];
  columns: JsonObject[];
  controller: FluxController;
}

const col = (name: string, jsonPath: string, type = "string"): JsonObject => ({ name, jsonPath, type });
const AGE = col("Age", ".metadata.creationTimestamp", "date");
const READY = col("Ready", '.status.conditions[?(@.type=="Ready")].status');
const STATUS = col("Status", '.status.conditions[?(@.type=="Ready")].message');

/** The kinds of the default components, with the coordinates of their real CRDs. */
export const FLUX_CRDS: readonly CrdSpec[] = [
  {
    group: "source.toolkit.fluxcd.io",
    kind: "Bucket",
    plural: "buckets",
    versions: ["v1", "v1beta2"],
    columns: [col("Endpoint", ".spec.endpoint"), AGE, READY, STATUS],
    controller: "source-controller",
  },
  {
    group: "source.toolkit.fluxcd.io",
    kind: "GitRepository",
    plural: "gitrepositories",
    shortNames: ["gitrepo"],
    versions: ["v1", "v1beta2"],
    columns: [col("URL", ".spec.url"), AGE, READY, STATUS],
    controller: "source-controller",
  },
  {
    group: "source.toolkit.fluxcd.io",
    kind: "HelmChart",
    plural: "helmcharts",
    shortNames: ["hc"],
    versions: ["v1", "v1beta2"],
    columns: [
      col("Chart", ".spec.chart"),
      col("Version", ".spec.version"),
      col("Source Kind", ".spec.sourceRef.kind"),
      col("Source Name", ".spec.sourceRef.name"),
      AGE,
      READY,
      STATUS,
    ],
    controller: "source-controller",
  },
  {
    group: "source.toolkit.fluxcd.io",
    kind: "HelmRepository",
    plural: "helmrepositories",
    shortNames: ["helmrepo"],
    versions: ["v1", "v1beta2"],
    columns: [col("URL", ".spec.url"), AGE, READY, STATUS],
    controller: "source-controller",
  },
  {
    group: "source.toolkit.fluxcd.io",
    kind: "OCIRepository",
    plural: "ocirepositories",
    shortNames: ["ocirepo"],
    versions: ["v1", "v1beta2"],
    columns: [col("URL", ".spec.url"), READY, STATUS, AGE],
    controller: "source-controller",
  },
  {
    group: "kustomize.toolkit.fluxcd.io",
    kind: "Kustomization",
    plural: "kustomizations",
    shortNames: ["ks"],
    versions: ["v1", "v1beta2"],
    columns: [AGE, READY, STATUS],
    controller: "kustomize-controller",
  },
  {
    group: "helm.toolkit.fluxcd.io",
    kind: "HelmRelease",
    plural: "helmreleases",
    shortNames: ["hr"],
    versions: ["v2", "v2beta2"],
    columns: [AGE, READY, STATUS],
    controller: "helm-controller",
  },
  {
    group: "notification.toolkit.fluxcd.io",
    kind: "Alert",
    plural: "alerts",
    versions: ["v1beta3", "v1beta2"],
    noStatus: ["v1beta3"],
    columns: [AGE, READY, STATUS],
    controller: "notification-controller",
  },
  {
    group: "notification.toolkit.fluxcd.io",
    kind: "Provider",
    plural: "providers",
    versions: ["v1beta3", "v1beta2"],
    noStatus: ["v1beta3"],
    columns: [AGE, READY, STATUS],
    controller: "notification-controller",
  },
  {
    group: "notification.toolkit.fluxcd.io",
    kind: "Receiver",
    plural: "receivers",
    versions: ["v1", "v1beta2"],
    columns: [AGE, READY, STATUS],
    controller: "notification-controller",
  },
];

const CONTAINER_PORTS: Record<FluxController, JsonObject[]> = {
  "source-controller": [
    { containerPort: 9090, name: "http", protocol: "TCP" },
    { containerPort: 8080, name: "http-prom", protocol: "TCP" },
    { containerPort: 9440, name: "healthz", protocol: "TCP" },
  ],
  "kustomize-controller": [
    { containerPort: 8080, name: "http-prom", protocol: "TCP" },
    { containerPort: 9440, name: "healthz", protocol: "TCP" },
  ],
  "helm-controller": [
    { containerPort: 8080, name: "http-prom", protocol: "TCP" },
    { containerPort: 9440, name: "healthz", protocol: "TCP" },
  ],
  "notification-controller": [
    { containerPort: 9090, name: "http", protocol: "TCP" },
    { containerPort: 9292, name: "http-webhook", protocol: "TCP" },
    { containerPort: 8080, name: "http-prom", protocol: "TCP" },
    { containerPort: 9440, name: "healthz", protocol: "TCP" },
  ],
};

const CONTROLLER_ENV: JsonObject[] = [
  { name: "RUNTIME_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  { name: "GOMEMLIMIT", valueFrom: { resourceFieldRef: { containerName: "manager", resource: "limits.memory" } } },
];

function controllerArgs(name: FluxController): string[] {
  const events = "--events-addr=http://notification-controller.flux-system.svc.cluster.local./";
  const common = ["--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"];
  if (name === "notification-controller") return common;
  if (name === "source-controller") {
    return [
      events,
      ...common,
      "--storage-path=/data",
      "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local.",
    ];
  }
  return [events, ...common];
}

/**
 * The YAML text of a Flux install for the simulated cluster, in the shape of the `install.yaml` attached to
 * each Flux release (`flux install --export`). Test tooling: the controllers it "installs" are simulated.
 */
export function simulatedFluxInstallManifest(version = DEFAULT_FLUX_VERSION): string {
  return simulatedFluxInstallObjects(version)
    .map((o) => `---\n${stringify(o)}`)
    .join("");
}

/** The objects of {@link simulatedFluxInstallManifest}, in the order a kustomize build emits them. */
export function simulatedFluxInstallObjects(version = DEFAULT_FLUX_VERSION): JsonObject[] {
  const images = controllerVersions(version);
  const fluxVersion = `v${version.replace(/^v/, "")}`;
  const annotations = {
    [SIMULATED_MANIFEST_ANNOTATION]: `Juanie simulator manifest for Flux ${fluxVersion} (test tooling, not an official Flux release)`,
  };
  const baseLabels = {
    "app.kubernetes.io/instance": FLUX_NAMESPACE,
    "app.kubernetes.io/part-of": "flux",
    "app.kubernetes.io/version": fluxVersion,
  };
  const meta = (name: string, extra: Record<string, string> = {}, namespaced = true): JsonObject => ({
    name,
    ...(namespaced ? { namespace: FLUX_NAMESPACE } : {}),
    labels: { ...baseLabels, ...extra },
    annotations,
  });
  const component = (c: FluxController) => ({ "app.kubernetes.io/component": c });

  const namespace: JsonObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: meta(
      FLUX_NAMESPACE,
      { "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "latest" },
      false,
    ),
  };
  const quota: JsonObject = {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: meta(`critical-pods-${FLUX_NAMESPACE}`),
    spec: {
      hard: { pods: "1000" },
      scopeSelector: {
        matchExpressions: [
          { operator: "In", scopeName: "PriorityClass", values: ["system-node-critical", "system-cluster-critical"] },
        ],
      },
    },
  };
  const crds: JsonObject[] = FLUX_CRDS.map((c) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      ...meta(`${c.plural}.${c.group}`, component(c.controller), false),
      annotations: { ...annotations, "controller-gen.kubebuilder.io/version": "v0.19.0" },
    },
    spec: {
      group: c.group,
      names: {
        kind: c.kind,
        listKind: `${c.kind}List`,
        plural: c.plural,
        singular: c.kind.toLowerCase(),
        ...(c.shortNames ? { shortNames: c.shortNames } : {}),
      },
      scope: "Namespaced",
      versions: c.versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        ...(i > 0
          ? { deprecated: true, deprecationWarning: `${v} ${c.kind} is deprecated, upgrade to ${c.versions[0]}` }
          : {}),
        additionalPrinterColumns: c.columns,
        schema: { openAPIV3Schema: openSchema(c.kind) },
        subresources: subresourcesOf(c, v),
      })),
    },
  }));
  const accounts: JsonObject[] = FLUX_CONTROLLERS.map((c) => ({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: meta(c, component(c)),
  }));
  const clusterRole: JsonObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: meta(`crd-controller-${FLUX_NAMESPACE}`, {}, false),
    rules: [
      ...[
        "source.toolkit.fluxcd.io",
        "kustomize.toolkit.fluxcd.io",
        "helm.toolkit.fluxcd.io",
        "notification.toolkit.fluxcd.io",
        "image.toolkit.fluxcd.io",
      ].map((g) => ({ apiGroups: [g], resources: ["*"], verbs: ["*"] })),
      {
        apiGroups: [""],
        resources: ["namespaces", "secrets", "configmaps", "serviceaccounts"],
        verbs: ["get", "list", "watch"],
      },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      },
    ],
  };
  const subject = (c: FluxController) => ({ kind: "ServiceAccount", name: c, namespace: FLUX_NAMESPACE });
  const bindings: JsonObject[] = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: meta(`cluster-reconciler-${FLUX_NAMESPACE}`, {}, false),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [subject("kustomize-controller"), subject("helm-controller")],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: meta(`crd-controller-${FLUX_NAMESPACE}`, {}, false),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `crd-controller-${FLUX_NAMESPACE}` },
      subjects: FLUX_CONTROLLERS.map(subject),
    },
  ];
  const service = (name: string, c: FluxController, targetPort: string): JsonObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(name, { ...component(c), "control-plane": "controller" }),
    spec: {
      type: "ClusterIP",
      selector: { app: c },
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort }],
    },
  });
  const services = [
    service("notification-controller", "notification-controller", "http"),
    service("source-controller", "source-controller", "http"),
    service("webhook-receiver", "notification-controller", "http-webhook"),
  ];
  const deployments: JsonObject[] = FLUX_CONTROLLERS.map((c) => {
    const labels = { ...component(c), "control-plane": "controller" };
    const podLabels = { ...baseLabels, ...component(c), app: c };
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(c, labels),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: c } },
        strategy: c === "source-controller" ? { type: "Recreate" } : { type: "RollingUpdate" },
        template: {
          metadata: {
            labels: podLabels,
            annotations: { "prometheus.io/port": "8080", "prometheus.io/scrape": "true" },
          },
          spec: {
            serviceAccountName: c,
            priorityClassName: "system-cluster-critical",
            terminationGracePeriodSeconds: 10,
            nodeSelector: { "kubernetes.io/os": "linux" },
            containers: [
              {
                name: "manager",
                image: `ghcr.io/fluxcd/${c}:${images[c]}`,
                imagePullPolicy: "IfNotPresent",
                args: controllerArgs(c),
                env: CONTROLLER_ENV,
                ports: CONTAINER_PORTS[c],
                livenessProbe: { httpGet: { path: "/healthz", port: "healthz" } },
                readinessProbe: { httpGet: { path: "/readyz", port: "healthz" } },
                resources: {
                  limits: { cpu: "1000m", memory: "1Gi" },
                  requests: { cpu: c === "source-controller" ? "50m" : "100m", memory: "64Mi" },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  seccompProfile: { type: "RuntimeDefault" },
                },
              },
            ],
          },
        },
      },
    };
  });
  return [namespace, quota, ...crds, ...accounts, clusterRole, ...bindings, ...services, ...deployments];
}

function subresourcesOf(c: CrdSpec, version: string): JsonObject {
  return c.noStatus?.includes(version) ? {} : { status: {} };
}

/** Open schemas: the simulator does not validate Flux specs (the real CRDs do). */
function openSchema(kind: string): JsonObject {
  return {
    description: `${kind} (schema left open by the Juanie simulator)`,
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    },
  };
}

export interface FluxReleasesMirror {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `${url}/v{version}/install.yaml`: replace `{version}` with a Flux version such as 2.7.3. */
  urlTemplate: string;
  /** Paths asked for, for assertions. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A tiny HTTP server that serves the simulated install manifests at `/v<version>/install.yaml` — a stand-in
 * for a release mirror in tests and the demo (test tooling; the manifests are the simulator's, not Flux's).
 */
export async function serveFluxReleases(opts: { host?: string; port?: number } = {}): Promise<FluxReleasesMirror> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    requests.push(pathname);
    const m = /^\/v(\d+\.\d+\.\d+)\/install\.yaml$/.exec(pathname);
    if (req.method !== "GET" || !m) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    let body: string;
    try {
      body = simulatedFluxInstallManifest(m[1] as string);
    } catch (err) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { "content-type": "application/yaml" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const url = `http://${opts.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    urlTemplate: `${url}/v{version}/install.yaml`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
