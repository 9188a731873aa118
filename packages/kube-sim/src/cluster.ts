import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import { FluxSimulator, type FluxSimulatorOptions } from "./flux/controllers.ts";
import { simulatedFluxInstallObjects } from "./flux/manifest.ts";
import { type KubeObject, str } from "./json.ts";
import type { ResourceType } from "./resources.ts";
import { KubeApiServer, SIMULATOR_GIT_VERSION, type TokenUser } from "./server.ts";
import { ClusterStore } from "./store.ts";
import { WorkloadController, type WorkloadOptions } from "./workloads.ts";

/** The well-known marker of a simulated cluster (besides the `+juanie-simulator` server version). */
export const SIMULATOR_MARKER = { namespace: "kube-public", name: "juanie-simulator" } as const;

export interface KubeSimOptions {
  host?: string;
  port?: number;
  /** The admin bearer token; random when omitted. */
  token?: string;
  /** More tokens, e.g. a read-only one to see 403 Forbidden. */
  users?: Record<string, TokenUser>;
  /** How often watches that asked for bookmarks receive one. Default 60 s, as a real API server. */
  bookmarkIntervalMs?: number;
  /** Watch history length: watching from an older resourceVersion gets 410 Gone. */
  historySize?: number;
  crdEstablishDelayMs?: number;
  /** The Deployment → pods controller (false to leave workloads alone). */
  workloads?: WorkloadOptions | false;
  /**
   * The Flux simulator (test tooling): controllers that act once Flux's Deployments run in flux-system.
   * `preinstalled` applies the simulated install manifest at start, as a cluster where Flux already runs.
   */
  flux?: boolean | KubeSimFluxOptions;
}

export interface KubeSimFluxOptions extends FluxSimulatorOptions {
  /** Apply the simulated Flux install manifest at start ("adopt an existing Flux"). Default false. */
  preinstalled?: boolean;
  /** The Flux version of the preinstalled manifest. Default 2.7.3. */
  version?: string;
}

export interface KubeSim {
  /** `https://127.0.0.1:PORT` (kubectl sends credentials only over TLS). */
  url: string;
  token: string;
  /** The server's self-signed certificate (PEM), the CA to trust. */
  certificate: string;
  store: ClusterStore;
  server: KubeApiServer;
  workloads: WorkloadController | undefined;
  /** The Flux simulator when started with `flux` (it acts only while Flux is installed in the cluster). */
  flux: FluxSimulator | undefined;
  /** Applies the simulated Flux install manifest directly into the store (as `flux install` would). */
  installFlux(version?: string): void;
  /** A kubeconfig (YAML) for this cluster with the admin token, or another user's token. */
  kubeconfig(opts?: { token?: string; context?: string; namespace?: string }): string;
  /** Writes the kubeconfig to `file` (mode 0600) and returns the path. */
  writeKubeconfig(file: string, opts?: { token?: string; context?: string; namespace?: string }): Promise<string>;
  /** Typed shorthand for tests: the resource type serving `apiVersion`/`kind`. */
  type(apiVersion: string, kind: string): ResourceType;
  close(): Promise<void>;
}

/**
 * Starts a simulated Kubernetes API server — test tooling and demo aid, never part of the product. It
 * serves the default namespaces, one Ready node and a marker ConfigMap that says it is a simulator.
 */
export async function startKubeSim(opts: KubeSimOptions = {}): Promise<KubeSim> {
  const store = new ClusterStore({
    ...(opts.historySize !== undefined ? { historySize: opts.historySize } : {}),
    ...(opts.crdEstablishDelayMs !== undefined ? { crdEstablishDelayMs: opts.crdEstablishDelayMs } : {}),
    gracefulPodDeletion: opts.workloads !== false,
  });
  const token = opts.token ?? randomBytes(24).toString("base64url");
  const tokens = new Map<string, TokenUser>([[token, { user: "admin" }]]);
  for (const [t, u] of Object.entries(opts.users ?? {})) tokens.set(t, u);
  seed(store);
  const workloads = opts.workloads === false ? undefined : new WorkloadController(store, opts.workloads ?? {});
  const fluxOpts = opts.flux === true ? {} : opts.flux || undefined;
  if (fluxOpts && opts.workloads === false) {
    throw new Error(
      "startKubeSim: flux needs the workload controller (workloads must not be false): the simulated Flux acts only while its Deployments have ready pods",
    );
  }
  const installFlux = (version?: string) => {
    for (const o of simulatedFluxInstallObjects(version)) {
      const type = store.findKind(String(o.apiVersion), String(o.kind)) as ResourceType;
      const meta = o.metadata as KubeObject["metadata"];
      store.patch(type, str(meta.namespace), String(meta.name), "apply", o, { manager: "flux", force: true });
    }
  };
  const flux = fluxOpts ? new FluxSimulator(store, fluxOpts) : undefined;
  if (fluxOpts?.preinstalled) installFlux(fluxOpts.version);
  const server = new KubeApiServer({
    store,
    tokens,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.bookmarkIntervalMs !== undefined ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}),
    ...(workloads ? { logs: workloads } : {}),
  });
  const url = await server.listen();
  const kubeconfig = (k: { token?: string; context?: string; namespace?: string } = {}) => {
    const name = k.context ?? "juanie-simulator";
    return stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name,
          cluster: { server: url, "certificate-authority-data": Buffer.from(server.certificate).toString("base64") },
        },
      ],
      users: [{ name, user: { token: k.token ?? token } }],
      contexts: [{ name, context: { cluster: name, user: name, ...(k.namespace ? { namespace: k.namespace } : {}) } }],
      "current-context": name,
    });
  };
  return {
    url,
    token,
    certificate: server.certificate,
    store,
    server,
    workloads,
    flux,
    installFlux,
    kubeconfig,
    async writeKubeconfig(file, k) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, kubeconfig(k), { mode: 0o600 });
      return file;
    },
    type(apiVersion, kind) {
      const t = store.findKind(apiVersion, kind);
      if (!t) throw new Error(`${apiVersion} ${kind} is not served`);
      return t;
    },
    async close() {
      await flux?.stop();
      workloads?.stop();
      await server.close();
      store.close();
    },
  };
}

function seed(store: ClusterStore) {
  const opts = { manager: "kube-apiserver" };
  const ns = store.findKind("v1", "Namespace") as ResourceType;
  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    store.create(ns, undefined, { metadata: { name } }, opts);
  }
  const cm = store.findKind("v1", "ConfigMap") as ResourceType;
  store.create(
    cm,
    SIMULATOR_MARKER.namespace,
    {
      metadata: {
        name: SIMULATOR_MARKER.name,
        labels: { "app.kubernetes.io/name": "juanie-simulator" },
      },
      data: {
        simulator: "true",
        version: SIMULATOR_GIT_VERSION,
        note: "This cluster is the Juanie Kubernetes API simulator (test tooling), not a real cluster.",
      },
    },
    opts,
  );
  const node = store.findKind("v1", "Node") as ResourceType;
  const created = store.create(
    node,
    undefined,
    {
      metadata: {
        name: "sim-node-1",
        labels: {
          "kubernetes.io/hostname": "sim-node-1",
          "kubernetes.io/os": "linux",
          "node-role.kubernetes.io/control-plane": "true",
        },
      },
      spec: {},
    },
    opts,
  );
  const now = created.metadata.creationTimestamp ?? null;
  const ready: KubeObject = {
    ...created,
    status: {
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          message: "kubelet is posting ready status",
          lastTransitionTime: now,
        },
      ],
      nodeInfo: { kubeletVersion: SIMULATOR_GIT_VERSION, architecture: "amd64", operatingSystem: "linux" },
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
      capacity: { cpu: "4", memory: "8Gi", pods: "110" },
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
    },
  };
  store.update(node, undefined, "sim-node-1", ready, { manager: "kubelet", scope: "status" });
}
