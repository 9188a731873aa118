import {
  ApiextensionsV1Api,
  AppsV1Api,
  type Configuration,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  VersionApi,
} from "@kubernetes/client-node";
import { ClusterError, normaliseClusterError } from "./errors.ts";
import { type KubeconfigSummary, parseKubeconfig } from "./kubeconfig.ts";

export { ClusterError, type ClusterErrorReason, normaliseClusterError } from "./errors.ts";

/** Where the credentials of a cluster come from. */
export type KubeClusterSource =
  | { kind: "kubeconfig"; kubeconfig: string; context?: string; allowExec?: boolean }
  | { kind: "in-cluster" };

export interface KubeClusterOptions {
  /** Deadline of each request (default 10 s). */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** KubernetesObjectApi whose default namespace follows the kubeconfig's context. */
class ObjectApi extends KubernetesObjectApi {
  constructor(configuration: Configuration, kc: KubeConfig) {
    super(configuration);
    this.setDefaultNamespace(kc);
  }
}

/**
 * One cluster the platform talks to. Built from a pasted kubeconfig (checked by `parseKubeconfig`,
 * never written to disk) or from the pod's service account. Every API call of the exposed clients
 * has a deadline and fails with a `ClusterError`.
 */
export class KubeCluster {
  readonly kc: KubeConfig;
  /** The API server's URL. */
  readonly server: string;
  readonly requestTimeoutMs: number;
  /** What the kubeconfig says (null for in-cluster). */
  readonly summary: KubeconfigSummary | null;
  readonly configuration: Configuration;

  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly apiext: ApiextensionsV1Api;
  readonly coordination: CoordinationV1Api;
  readonly custom: CustomObjectsApi;
  readonly rbac: RbacAuthorizationV1Api;
  readonly version: VersionApi;

  constructor(source: KubeClusterSource, opts: KubeClusterOptions = {}) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const kc = new KubeConfig();
    if (source.kind === "kubeconfig") {
      const summary = parseKubeconfig(source.kubeconfig, {
        ...(source.context !== undefined ? { context: source.context } : {}),
        allowExec: source.allowExec ?? false,
      });
      kc.loadFromString(source.kubeconfig);
      kc.setCurrentContext(summary.context);
      this.summary = summary;
    } else {
      kc.loadFromCluster();
      this.summary = null;
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ClusterError("invalid", "the kubeconfig has no cluster for its context");
    this.kc = kc;
    this.server = cluster.server;
    const timeoutMs = this.requestTimeoutMs;
    this.configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [
        {
          pre: async (ctx: RequestContext) => {
            if (!ctx.getSignal()) ctx.setSignal(AbortSignal.timeout(timeoutMs));
            return ctx;
          },
          post: async (rsp: ResponseContext) => rsp,
        },
      ],
    });
    this.objects = this.wrap(new ObjectApi(this.configuration, kc));
    this.core = this.wrap(new CoreV1Api(this.configuration));
    this.apps = this.wrap(new AppsV1Api(this.configuration));
    this.apiext = this.wrap(new ApiextensionsV1Api(this.configuration));
    this.coordination = this.wrap(new CoordinationV1Api(this.configuration));
    this.custom = this.wrap(new CustomObjectsApi(this.configuration));
    this.rbac = this.wrap(new RbacAuthorizationV1Api(this.configuration));
    this.version = this.wrap(new VersionApi(this.configuration));
  }

  /** Any failure (socket, TLS, Status) as a ClusterError naming this cluster's server. */
  normalise(e: unknown): ClusterError {
    return normaliseClusterError(e, this.server, { timeoutMs: this.requestTimeoutMs });
  }

  /** Runs `fn` and turns its failure into a ClusterError (for calls made outside the wrapped clients). */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.normalise(e);
    }
  }

  /** The same client with every async method failing with a ClusterError. */
  private wrap<T extends object>(api: T): T {
    return new Proxy(api, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          let out: unknown;
          try {
            out = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (e) {
            throw this.normalise(e);
          }
          if (out instanceof Promise) return out.catch((e: unknown) => Promise.reject(this.normalise(e)));
          return out;
        };
      },
    });
  }
}

/** True when `e` is a ClusterError of one of `reasons`. */
export function isClusterError(e: unknown, ...reasons: ClusterError["reason"][]): e is ClusterError {
  return e instanceof ClusterError && (reasons.length === 0 || reasons.includes(e.reason));
}
