import { createHash } from "node:crypto";
import {
  type ClusterAccess,
  type FluxManifestSource,
  KubeCallError,
  KubeconfigRejected,
  type KubePort,
} from "@juanie/domain";
import {
  applyFluxInstance,
  applyObjects,
  buildGitOpsObjects,
  ClusterError,
  checkCluster,
  deleteObject,
  detectFlux,
  ensureNamespace,
  FluxInstallError,
  fetchFluxManifest,
  findFluxCli,
  GitOpsInputError,
  getObject,
  gitOpsObjectRefs,
  installFlux,
  KubeCluster,
  KubeconfigError,
  KubeNameError,
  parseKubeconfig,
  parseManifest,
  planFluxUninstall,
  requestReconcile,
  setSuspended,
  uninstallFlux,
} from "@juanie/kube";

/** Flux's own kinds: an adopted Flux has no manifest the platform applied, so the cluster's CRDs tell what to remove. */
const fluxCrdGroup = /\.toolkit\.fluxcd\.io$/;

/** Any failure of @juanie/kube, as the domain port says it: a reason and a message a person can act on. */
function asCallError(err: unknown): never {
  if (err instanceof ClusterError) throw new KubeCallError(err.reason, err.message);
  if (err instanceof FluxInstallError || err instanceof GitOpsInputError || err instanceof KubeNameError) {
    throw new KubeCallError("invalid", err.message);
  }
  if (err instanceof KubeconfigError) throw new KubeCallError("invalid", err.message);
  throw err;
}

/**
 * The domain's KubePort over @juanie/kube (the real Kubernetes API through @kubernetes/client-node).
 * Clients are cached per credentials (by a hash, never by the kubeconfig itself) so repeated calls reuse
 * their connections.
 */
export function createKubePort(opts: { allowExec: boolean; requestTimeoutMs?: number }): KubePort {
  const clients = new Map<string, KubeCluster>();
  const clientOf = (access: ClusterAccess): KubeCluster => {
    const key =
      access.kind === "in-cluster"
        ? "in-cluster"
        : createHash("sha256")
            .update(`${access.context ?? ""}\n${access.kubeconfig}`)
            .digest("hex");
    let c = clients.get(key);
    if (!c) {
      try {
        c = new KubeCluster(
          access.kind === "in-cluster"
            ? { kind: "in-cluster" }
            : {
                kind: "kubeconfig",
                kubeconfig: access.kubeconfig,
                ...(access.context ? { context: access.context } : {}),
                allowExec: opts.allowExec,
              },
          opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {},
        );
      } catch (err) {
        asCallError(err);
      }
      if (clients.size > 200) clients.clear();
      clients.set(key, c);
    }
    return c;
  };
  const call = async <T>(access: ClusterAccess, fn: (c: KubeCluster) => Promise<T>): Promise<T> => {
    try {
      return await fn(clientOf(access));
    } catch (err) {
      asCallError(err);
    }
  };
  /** The manifest's objects, or — for a Flux the platform did not install — Flux's CRDs and namespace as the cluster has them. */
  const fluxObjectsOf = async (c: KubeCluster, manifest: string, namespace: string) => {
    if (manifest.trim()) return parseManifest(manifest);
    const crds = (await c.apiext.listCustomResourceDefinition()).items.filter((crd) =>
      fluxCrdGroup.test(crd.spec.group),
    );
    return [
      ...crds.map((crd) => ({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: crd.metadata?.name ?? "" },
        spec: crd.spec as unknown as Record<string, unknown>,
      })),
      { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    ];
  };
  return {
    allowExec: opts.allowExec,
    inClusterAvailable: () => !!process.env.KUBERNETES_SERVICE_HOST,
    parseKubeconfig(text, context) {
      try {
        const s = parseKubeconfig(text, { ...(context ? { context } : {}), allowExec: opts.allowExec });
        return { context: s.context, server: s.server, namespace: s.namespace, authType: s.authType };
      } catch (err) {
        if (err instanceof KubeconfigError) throw new KubeconfigRejected(err.field, err.message);
        throw err;
      }
    },
    check: (access) =>
      call(access, async (c) => {
        const r = await checkCluster(c);
        return { gitVersion: r.gitVersion, platform: r.platform, simulated: r.simulated, nodes: r.nodes };
      }),
    detectFlux: (access) => call(access, (c) => detectFlux(c)),
    async loadFluxManifest(source: FluxManifestSource) {
      try {
        if (source.kind === "flux-cli") {
          const binary = await findFluxCli();
          if (!binary) throw new KubeCallError("invalid", "no `flux` binary on the platform's PATH");
          return await fetchFluxManifest({ kind: "flux-cli", version: source.version, binary });
        }
        const text = await fetchFluxManifest(source);
        parseManifest(text);
        return text;
      } catch (err) {
        if (err instanceof KubeCallError) throw err;
        if (err instanceof FluxInstallError) throw new KubeCallError("invalid", err.message);
        asCallError(err);
      }
    },
    fluxCli: () => findFluxCli(),
    planFluxUninstall: (access, manifest, namespace) =>
      call(access, async (c) => {
        const plan = await planFluxUninstall(c, await fluxObjectsOf(c, manifest, namespace));
        return {
          items: [
            ...plan.crds.map((x) => ({ kind: "CustomResourceDefinition", name: x.name, objects: x.objects })),
            ...plan.namespaces.map((n) => ({ kind: "Namespace", name: n })),
            ...plan.namespaced.map((r) => ({ kind: r.kind, name: r.name, namespace: r.namespace ?? null })),
            ...plan.clusterScoped.map((r) => ({ kind: r.kind, name: r.name })),
          ],
        };
      }),
    installFlux: (access, manifest, onProgress) =>
      call(access, async (c) => {
        await installFlux(c, parseManifest(manifest), { onProgress });
      }),
    uninstallFlux: (access, manifest, namespace, onProgress) =>
      call(access, async (c) => {
        await uninstallFlux(c, await fluxObjectsOf(c, manifest, namespace), { onProgress });
      }),
    applyFluxInstance: (access, input) =>
      call(access, async (c) => {
        await applyFluxInstance(c, { version: input.version, namespace: input.namespace });
      }),
    ensureNamespace: (access, name) =>
      call(access, async (c) => {
        await ensureNamespace(c, name, { "app.kubernetes.io/managed-by": "juanie" });
      }),
    applyGitOps: (access, input) =>
      call(access, async (c) => {
        const o = buildGitOpsObjects(input);
        await applyObjects(c, [...(o.secret ? [o.secret] : []), o.gitRepository, o.kustomization]);
      }),
    removeGitOps: (access, input) =>
      call(access, async (c) => {
        const refs = gitOpsObjectRefs({ ...input, credential: { type: "basic", username: "", password: "" } });
        // The Kustomization first (Flux garbage-collects what it applied when pruning is on), then its source.
        await deleteObject(c, refs.kustomization);
        await deleteObject(c, refs.gitRepository);
        if (refs.secret) await deleteObject(c, refs.secret);
      }),
    gitOpsInventory: (access, input) =>
      call(access, async (c) => {
        const refs = gitOpsObjectRefs({ ...input, credential: { type: "none" } });
        const ks = await getObject(c, refs.kustomization);
        const entries = ((ks?.status as { inventory?: { entries?: { id?: string }[] } } | undefined)?.inventory
          ?.entries ?? []) as { id?: string }[];
        return entries.flatMap((e) => {
          // `<namespace>_<name>_<group>_<Kind>`; the namespace is empty for cluster-scoped objects.
          const parts = (e.id ?? "").split("_");
          if (parts.length < 4) return [];
          const kind = parts[parts.length - 1]!;
          const [namespace, ...rest] = parts.slice(0, parts.length - 2);
          return [{ kind, namespace: namespace || null, name: rest.join("_") }];
        });
      }),
    requestReconcile: (access, ref, withSource) =>
      call(access, async (c) => (await requestReconcile(c, ref, { withSource })).token),
    setSuspended: (access, ref, suspended) =>
      call(access, async (c) => (await setSuspended(c, ref, suspended)).token ?? null),
  };
}
