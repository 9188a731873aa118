import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  type Configuration,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  VersionApi,
} from "@kubernetes/client-node";
import { ClusterError, normaliseClusterError } from "./errors.ts";
import { KubeconfigError, type KubeconfigSummary, parseKubeconfig } from "./kubeconfig.ts";
import type { ObjectRef } from "./objects.ts";

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

export interface RawRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Absolute API path, e.g. /apis/apps/v1/namespaces/x/deployments/y. */
  path: string;
  query?: Record<string, string | undefined>;
  /** Sent as JSON (valid YAML too, for server-side apply). */
  body?: unknown;
  contentType?: string;
}

/** KubernetesObjectApi whose default namespace follows the kubeconfig's context. */
class ObjectApi extends KubernetesObjectApi {
  constructor(configuration: Configuration, kc: KubeConfig) {
    super(configuration);
    this.setDefaultNamespace(kc);
  }

  /** The API resource (plural name, namespaced) serving apiVersion/kind; cached, re-read when the kind is missing. */
  discover(apiVersion: string, kind: string) {
    return this.resource(apiVersion, kind);
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
  private readonly objectApi: ObjectApi;
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
      try {
        kc.loadFromString(source.kubeconfig);
        kc.setCurrentContext(summary.context);
      } catch (e) {
        // client-node's messages may quote the kubeconfig: keep only a generic one.
        void e;
        throw new KubeconfigError(
          "kubeconfig",
          "the kubeconfig could not be loaded: check its clusters, users and contexts",
        );
      }
      this.summary = summary;
    } else {
      if (!process.env.KUBERNETES_SERVICE_HOST) {
        throw new ClusterError(
          "invalid",
          "in-cluster access needs the platform to run in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set)",
        );
      }
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
    this.objectApi = new ObjectApi(this.configuration, kc);
    this.objects = this.wrap(this.objectApi);
    this.core = this.wrap(new CoreV1Api(this.configuration));
    this.apps = this.wrap(new AppsV1Api(this.configuration));
    this.apiext = this.wrap(new ApiextensionsV1Api(this.configuration));
    this.coordination = this.wrap(new CoordinationV1Api(this.configuration));
    this.custom = this.wrap(new CustomObjectsApi(this.configuration));
    this.rbac = this.wrap(new RbacAuthorizationV1Api(this.configuration));
    this.version = this.wrap(new VersionApi(this.configuration));
  }

  /**
   * A request with a plain JSON body and answer — no client-node model (de)serialisation, which drops
   * fields it does not know (such as `x-kubernetes-*` in CRD schemas). Same auth, deadline and errors.
   */
  async request<T = unknown>(req: RawRequest): Promise<T> {
    try {
      const ctx = this.configuration.baseServer.makeRequestContext(req.path, HttpMethod[req.method]);
      for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, v);
      ctx.setHeaderParam("Accept", "application/json");
      if (req.body !== undefined) {
        ctx.setHeaderParam("Content-Type", req.contentType ?? "application/json");
        ctx.setBody(JSON.stringify(req.body));
      }
      await this.kc.applySecurityAuthentication(ctx);
      ctx.setSignal(AbortSignal.timeout(this.requestTimeoutMs));
      const rsp = await this.configuration.httpApi.send(ctx).toPromise();
      const text = await rsp.body.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) {
        throw new ApiException(rsp.httpStatusCode, "Unsuccessful HTTP Request", parsed, rsp.headers);
      }
      return parsed as T;
    } catch (e) {
      throw this.normalise(e);
    }
  }

  /** The API path of an object (or of its collection when `name` is omitted), found through discovery. */
  async pathOf(ref: Omit<ObjectRef, "name"> & { name?: string }): Promise<string> {
    let resource: Awaited<ReturnType<ObjectApi["discover"]>> | undefined;
    try {
      resource = await this.call(() => this.objectApi.discover(ref.apiVersion, ref.kind));
    } catch (e) {
      if (!isClusterError(e, "not_found")) throw e;
    }
    if (!resource) throw new ClusterError("not_found", `the cluster does not serve ${ref.apiVersion} ${ref.kind}`);
    const parts = [ref.apiVersion.includes("/") ? "/apis" : "/api", ref.apiVersion];
    if (resource.namespaced) {
      const namespace = ref.namespace ?? this.kc.getContextObject(this.kc.getCurrentContext())?.namespace ?? "default";
      parts.push("namespaces", encodeURIComponent(namespace));
    }
    parts.push(resource.name);
    if (ref.name !== undefined) parts.push(encodeURIComponent(ref.name));
    return parts.join("/");
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
