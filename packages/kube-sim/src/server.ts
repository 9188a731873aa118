import type http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { badRequest, StatusError } from "./errors.ts";
import {
  decodeContinue,
  encodeContinue,
  gracePeriod,
  isTrue,
  managerFromUserAgent,
  OPENAPI_V2_EMPTY,
  PATCH_TYPES,
  parseBody,
  readBody,
  send,
  versionInfo,
  wantsTable,
} from "./http-helpers.ts";
import { isObject, type Json, type JsonObject, type KubeObject, obj, str } from "./json.ts";
import { decodeKubernetesProtobuf } from "./protobuf.ts";
import { compareVersions, groupVersion, type ResourceType, verbsOf } from "./resources.ts";
import { parseFieldSelector, parseLabelSelector, type Selector } from "./selectors.ts";
import { selfSignedCertificate } from "./self-signed.ts";
import type { ClusterStore, StoredEvent } from "./store.ts";
import { toTable } from "./tables.ts";

export { SIMULATOR_GIT_VERSION } from "./http-helpers.ts";

/** Who a bearer token belongs to, and what RBAC would deny them (403 Forbidden). */
export interface TokenUser {
  user: string;
  /** Every write is forbidden. */
  readOnly?: boolean;
  /** Resources this user may not touch at all: `nodes`, `deployments.apps`, … */
  forbidden?: string[];
  /** After this moment the token is refused (401), like an expired service-account token. */
  expiresAt?: Date;
}

/** Pod logs, supplied by the workload controller. */
export interface LogSource {
  /** The log lines of a container, or a StatusError when it has none (still waiting to start). */
  read(pod: KubeObject, container: string | undefined): string[];
  /** Called with new lines until the returned function is called (for `follow=true`). */
  follow(pod: KubeObject, container: string | undefined, onLine: (line: string) => void): () => void;
}

export interface ApiServerOptions {
  store: ClusterStore;
  tokens: Map<string, TokenUser>;
  host?: string;
  port?: number;
  /** How often an idle watch that asked for bookmarks gets one (a real API server: about a minute). */
  bookmarkIntervalMs?: number;
  logs?: LogSource;
}

const AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

interface Request {
  method: string;
  path: string[];
  query: URLSearchParams;
  accept: string;
  contentType: string;
  body: string;
  userAgent: string;
  user: TokenUser;
}

interface ResourceRoute {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

/**
 * The HTTP face of the simulated cluster: plain `node:http` speaking the Kubernetes REST conventions
 * (discovery, CRUD, patches, server-side apply, list+watch, Status errors, bearer tokens).
 */
export class KubeApiServer {
  private readonly server: https.Server;
  /** The server's self-signed certificate (PEM): what a kubeconfig's certificate-authority-data trusts. */
  readonly certificate: string;
  private readonly open = new Set<http.ServerResponse>();
  private readonly closers = new Set<() => void>();
  private address = "";

  constructor(private readonly opts: ApiServerOptions) {
    const tls = selfSignedCertificate();
    this.certificate = tls.cert;
    this.server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      void this.handle(req, res);
    });
  }

  get url(): string {
    return this.address;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? "127.0.0.1", () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.address = `https://${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`;
    return this.address;
  }

  /** Ends every open watch (clients reconnect, as after an API server restart). */
  dropWatches(): void {
    for (const close of [...this.closers]) close();
  }

  async close(): Promise<void> {
    this.dropWatches();
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    this.open.add(res);
    res.on("close", () => this.open.delete(res));
    try {
      const url = new URL(req.url ?? "/", "http://sim");
      const path = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      const publicPaths = ["version", "healthz", "livez", "readyz"];
      let user: TokenUser | undefined;
      const auth = req.headers.authorization;
      if (auth?.startsWith("Bearer ")) user = this.opts.tokens.get(auth.slice(7).trim());
      if (user?.expiresAt && user.expiresAt.getTime() <= Date.now()) user = undefined;
      if (!user && !(path.length === 1 && publicPaths.includes(path[0] as string))) {
        throw new StatusError(401, "Unauthorized", "Unauthorized");
      }
      const raw = await readBody(req);
      const body = raw.toString("utf8");
      const request: Request = {
        method: req.method ?? "GET",
        path,
        query: url.searchParams,
        accept: req.headers.accept ?? "application/json",
        contentType: (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "",
        body,
        userAgent: req.headers["user-agent"] ?? "",
        user: user ?? { user: "system:anonymous", readOnly: true },
      };
      if (raw.length > 0 && request.contentType.startsWith("application/vnd.kubernetes.protobuf")) {
        request.body = JSON.stringify(decodeKubernetesProtobuf(raw));
        request.contentType = "application/json";
      }
      await this.route(request, res);
    } catch (e) {
      const error =
        e instanceof StatusError
          ? e
          : new StatusError(500, "InternalError", `Internal error occurred: ${(e as Error).message}`);
      if (!res.headersSent) send(res, error.code, error.toStatus());
      else res.end();
    }
  }

  private async route(req: Request, res: http.ServerResponse) {
    const [first, second] = req.path;
    if (first === "version" && req.path.length === 1) return send(res, 200, versionInfo());
    if (["healthz", "livez", "readyz"].includes(first ?? "") && req.path.length === 1) {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.end("ok");
    }
    if (first === "openapi") return this.openapi(req, res);
    if (first === "api" && req.path.length === 1) return this.discoveryRoot(req, res, true);
    if (first === "apis" && req.path.length === 1) return this.discoveryRoot(req, res, false);
    if (first === "apis" && req.path.length === 2) return send(res, 200, this.apiGroup(second as string));
    if ((first === "api" && req.path.length === 2) || (first === "apis" && req.path.length === 3)) {
      const group = first === "api" ? "" : (second as string);
      const version = (first === "api" ? second : req.path[2]) as string;
      return send(res, 200, this.resourceList(group, version));
    }
    const route = this.resolve(req.path);
    if (!route) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    return this.resource(req, res, route);
  }

  // ---- discovery ----

  private groups(): Map<string, ResourceType[]> {
    const byGroup = new Map<string, ResourceType[]>();
    for (const r of this.opts.store.resourceTypes()) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
    return byGroup;
  }

  private versionsOf(types: ResourceType[]): string[] {
    return [...new Set(types.map((t) => t.version))].sort(compareVersions);
  }

  private discoveryRoot(req: Request, res: http.ServerResponse, core: boolean) {
    const groups = [...this.groups()].filter(([g]) => (core ? g === "" : g !== ""));
    if (req.accept.includes("as=APIGroupDiscoveryList") && req.accept.includes("v=v2")) {
      const items = groups.map(([group, types]) => ({
        metadata: { name: group, creationTimestamp: null },
        versions: this.versionsOf(types).map((version) => ({
          version,
          resources: types.filter((t) => t.version === version).map((t) => this.aggregatedResource(t)),
          freshness: "Current",
        })),
      }));
      const body = { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
      return send(res, 200, body, AGGREGATED_V2);
    }
    if (core) {
      return send(res, 200, {
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [
          { clientCIDR: "0.0.0.0/0", serverAddress: this.address.replace(/^https:\/\//, "") },
        ],
      });
    }
    return send(res, 200, {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: groups.map(([g]) => this.apiGroup(g)),
    });
  }

  private apiGroup(group: string): JsonObject {
    const types = this.groups().get(group);
    if (!types || group === "")
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const versions = this.versionsOf(types).map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    return { kind: "APIGroup", apiVersion: "v1", name: group, versions, preferredVersion: versions[0] ?? null };
  }

  private aggregatedResource(t: ResourceType): JsonObject {
    const responseKind = { group: t.group, version: t.version, kind: t.kind };
    const out: JsonObject = {
      resource: t.plural,
      responseKind,
      scope: t.namespaced ? "Namespaced" : "Cluster",
      singularResource: t.singular,
      verbs: verbsOf(t),
    };
    if (t.shortNames.length > 0) out.shortNames = t.shortNames;
    if (t.categories.length > 0) out.categories = t.categories;
    if (t.subresources.length > 0) {
      out.subresources = t.subresources.map((s) => ({
        subresource: s,
        responseKind:
          s === "scale"
            ? { group: "autoscaling", version: "v1", kind: "Scale" }
            : s === "log"
              ? { group: "", version: "v1", kind: "Pod" }
              : responseKind,
        verbs: s === "log" ? ["get"] : ["get", "patch", "update"],
      }));
    }
    return out;
  }

  private resourceList(group: string, version: string): JsonObject {
    const types = this.opts.store.resourceTypes().filter((t) => t.group === group && t.version === version);
    if (types.length === 0) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const resources: JsonObject[] = [];
    for (const t of types) {
      const base: JsonObject = {
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: verbsOf(t),
      };
      if (t.shortNames.length > 0) base.shortNames = t.shortNames;
      if (t.categories.length > 0) base.categories = t.categories;
      resources.push(base);
      for (const s of t.subresources) {
        resources.push({
          name: `${t.plural}/${s}`,
          singularName: "",
          namespaced: t.namespaced,
          ...(s === "scale" ? { group: "autoscaling", version: "v1", kind: "Scale" } : { kind: t.kind }),
          verbs: s === "log" ? ["get"] : ["get", "patch", "update"],
        });
      }
    }
    return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersion({ group, version }), resources };
  }

  /**
   * A minimal OpenAPI v3: per group/version, the PATCH operations with their GVK and query parameters.
   * kubectl reads it to learn that the server validates fields itself (`fieldValidation`) and supports
   * `dryRun`; with no schemas it computes strategic merge patches from its compiled-in types.
   */
  private openapi(req: Request, res: http.ServerResponse) {
    const [, version, ...rest] = req.path;
    if (version === "v2" && rest.length === 0) {
      res.writeHead(200, { "content-type": "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" });
      return res.end(OPENAPI_V2_EMPTY);
    }
    if (version !== "v3") throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const gvs = new Map<string, ResourceType[]>();
    for (const t of this.opts.store.resourceTypes()) {
      const key = t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`;
      gvs.set(key, [...(gvs.get(key) ?? []), t]);
    }
    const hash = String(this.opts.store.resourceTypes().length);
    if (rest.length === 0) {
      const paths: JsonObject = {};
      for (const key of gvs.keys()) paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
      return send(res, 200, { paths });
    }
    const types = gvs.get(rest.join("/"));
    if (!types) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const params = ["dryRun", "fieldManager", "fieldValidation", "force"].map((name) => ({
      name,
      in: "query",
      schema: { type: name === "force" ? "boolean" : "string" },
    }));
    const paths: JsonObject = {};
    for (const t of types) {
      const prefix = `/${rest.join("/")}${t.namespaced ? "/namespaces/{namespace}" : ""}/${t.plural}`;
      const gvk = { group: t.group, version: t.version, kind: t.kind };
      paths[`${prefix}/{name}`] = {
        get: { "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk },
        patch: { "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk, parameters: params },
        put: { "x-kubernetes-action": "put", "x-kubernetes-group-version-kind": gvk, parameters: params },
      };
      paths[prefix] = {
        post: { "x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk, parameters: params },
      };
    }
    return send(res, 200, {
      openapi: "3.0.0",
      info: { title: "Kubernetes", version: "v1.35.0" },
      paths,
      components: {},
    });
  }

  // ---- resources ----

  private resolve(path: string[]): ResourceRoute | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (path[0] === "api") {
      group = "";
      version = path[1] as string;
      rest = path.slice(2);
    } else if (path[0] === "apis") {
      group = path[1] as string;
      version = path[2] as string;
      rest = path.slice(3);
    } else return undefined;
    const store = this.opts.store;
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      const t = store.find(group, version, rest[2] as string);
      if (t?.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      }
    }
    const [plural, name, subresource, ...extra] = rest;
    if (!plural || extra.length > 0) return undefined;
    const type = store.find(group, version, plural);
    if (!type) return undefined;
    if (subresource && !type.subresources.includes(subresource as "status")) return undefined;
    return { type, namespace, name, subresource };
  }

  private async resource(req: Request, res: http.ServerResponse, route: ResourceRoute) {
    const { type, namespace, name, subresource } = route;
    const store = this.opts.store;
    const q = req.query;
    const verb = this.verbOf(req, route);
    this.authorize(req, route, verb);
    const manager = q.get("fieldManager") ?? managerFromUserAgent(req.userAgent);
    const dryRun = q.get("dryRun") === "All";
    const scope = subresource === "status" ? "status" : "main";

    if (subresource === "log") return this.podLog(req, res, route);
    if (subresource === "scale") return this.scale(req, res, route, manager);

    switch (verb) {
      case "get":
        return this.sendObject(req, res, type, store.get(type, namespace, name as string));
      case "list":
        return this.list(req, res, type, namespace);
      case "watch":
        return this.watch(req, res, type, namespace);
      case "create": {
        const created = store.create(type, namespace, parseBody(req), { manager, dryRun });
        return send(res, 201, created);
      }
      case "update":
        return send(
          res,
          200,
          store.update(type, namespace, name as string, parseBody(req), { manager, dryRun, scope }),
        );
      case "patch": {
        const patchType = PATCH_TYPES[req.contentType];
        if (!patchType) {
          throw new StatusError(
            415,
            "UnsupportedMediaType",
            `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_TYPES).join(", ")}`,
          );
        }
        if (patchType === "apply" && !q.get("fieldManager")) {
          throw new StatusError(
            422,
            "Invalid",
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
            {
              causes: [
                {
                  type: "FieldValueRequired",
                  message: "Required value: is required for apply patch",
                  field: "fieldManager",
                },
              ],
            },
          );
        }
        const existed = store.tryGet(type, namespace, name as string) !== undefined;
        const patched = store.patch(type, namespace, name as string, patchType, parseBody(req, patchType === "apply"), {
          manager,
          dryRun,
          scope,
          force: q.get("force") === "true",
        });
        return send(res, existed ? 200 : 201, patched);
      }
      case "delete": {
        const options = req.body ? parseBody(req) : {};
        const opts = isObject(options) ? options : {};
        const pre = obj(opts.preconditions);
        const deleted = store.delete(type, namespace, name as string, {
          dryRun: dryRun || (Array.isArray(opts.dryRun) && opts.dryRun.includes("All")),
          propagationPolicy: q.get("propagationPolicy") ?? str(opts.propagationPolicy) ?? "Background",
          ...gracePeriod(q.get("gracePeriodSeconds") ?? opts.gracePeriodSeconds),
          preconditions: {
            ...(str(pre?.uid) ? { uid: str(pre?.uid) } : {}),
            ...(str(pre?.resourceVersion) ? { resourceVersion: str(pre?.resourceVersion) } : {}),
          },
        });
        return send(res, 200, deleted);
      }
      case "deletecollection": {
        const selectors = this.selectors(req, type);
        for (const o of store.list(type, namespace, selectors)) {
          store.delete(type, str(o.metadata.namespace), str(o.metadata.name) as string, { dryRun });
        }
        return send(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" });
      }
    }
  }

  private verbOf(req: Request, route: ResourceRoute): string {
    const m = req.method;
    if (route.name) {
      if (m === "GET") return "get";
      if (m === "PUT") return "update";
      if (m === "PATCH") return "patch";
      if (m === "DELETE") return "delete";
    } else {
      if (m === "GET") return isTrue(req.query.get("watch")) ? "watch" : "list";
      if (m === "POST") return "create";
      if (m === "DELETE") return "deletecollection";
    }
    throw new StatusError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
  }

  private authorize(req: Request, route: ResourceRoute, verb: string) {
    const { type, namespace, name } = route;
    const resource = type.group ? `${type.plural}.${type.group}` : type.plural;
    const denied = req.user.forbidden?.includes(resource) ?? false;
    if (!denied && (!req.user.readOnly || ["get", "list", "watch"].includes(verb))) return;
    const where = type.namespaced ? `in the namespace "${namespace ?? "default"}"` : "at the cluster scope";
    const sub = route.subresource ? `/${route.subresource}` : "";
    throw new StatusError(
      403,
      "Forbidden",
      `${resource}${name ? ` "${name}"` : ""} is forbidden: User "${req.user.user}" cannot ${verb} resource "${type.plural}${sub}" in API group "${type.group}" ${where}`,
      { ...(name ? { name } : {}), group: type.group, kind: type.plural },
    );
  }

  private selectors(req: Request, type: ResourceType): Selector[] {
    return [
      parseLabelSelector(req.query.get("labelSelector")),
      parseFieldSelector(req.query.get("fieldSelector"), type.kind),
    ];
  }

  private sendObject(req: Request, res: http.ServerResponse, type: ResourceType, o: KubeObject) {
    if (wantsTable(req.accept)) return send(res, 200, toTable(type, [o], str(o.metadata.resourceVersion) ?? ""));
    return send(res, 200, o);
  }

  private list(req: Request, res: http.ServerResponse, type: ResourceType, namespace: string | undefined) {
    const store = this.opts.store;
    const all = store.list(type, namespace, this.selectors(req, type));
    const rv = String(store.resourceVersion);
    let items = all;
    let cont: string | undefined;
    const token = req.query.get("continue");
    if (token) {
      const decoded = decodeContinue(token);
      if (decoded.rv < store.oldestWatchableVersion) {
        throw new StatusError(
          410,
          "Expired",
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        );
      }
      items = items.filter((o) => `${str(o.metadata.namespace) ?? ""}/${str(o.metadata.name)}` > decoded.after);
    }
    const limit = Number(req.query.get("limit") ?? 0);
    let remaining = 0;
    if (limit > 0 && items.length > limit) {
      remaining = items.length - limit;
      items = items.slice(0, limit);
      const last = items[items.length - 1] as KubeObject;
      cont = encodeContinue(Number(rv), `${str(last.metadata.namespace) ?? ""}/${str(last.metadata.name)}`);
    }
    if (wantsTable(req.accept)) {
      const table = toTable(type, items, rv);
      if (cont) (table.metadata as JsonObject).continue = cont;
      return send(res, 200, table);
    }
    const metadata: JsonObject = { resourceVersion: rv };
    if (cont) {
      metadata.continue = cont;
      metadata.remainingItemCount = remaining;
    }
    return send(res, 200, { kind: type.listKind, apiVersion: groupVersion(type), metadata, items });
  }

  private watch(req: Request, res: http.ServerResponse, type: ResourceType, namespace: string | undefined) {
    const store = this.opts.store;
    const q = req.query;
    const selectors = this.selectors(req, type);
    const matches = (o: KubeObject | undefined) =>
      o !== undefined &&
      (!namespace || !type.namespaced || str(o.metadata.namespace) === namespace) &&
      selectors.every((s) => s(o));
    const table = wantsTable(req.accept);
    const resourceId = `${type.group}/${type.plural}`;
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private" });
    res.flushHeaders();
    const write = (eventType: string, object: JsonObject) => {
      const payload =
        table && eventType !== "BOOKMARK" && eventType !== "ERROR"
          ? toTable(type, [object as KubeObject], str(obj(object.metadata)?.resourceVersion) ?? "")
          : object;
      res.write(`${JSON.stringify({ type: eventType, object: payload })}\n`);
    };
    const deliver = (e: StoredEvent) => {
      if (e.resource !== resourceId) return;
      const object = store.served(type, e.object);
      const was = matches(e.previous);
      const is = matches(e.object);
      if (e.type === "ADDED" && is) write("ADDED", object);
      else if (e.type === "MODIFIED" && is) write(was ? "MODIFIED" : "ADDED", object);
      else if (e.type === "MODIFIED" && was) write("DELETED", object);
      else if (e.type === "DELETED" && (was || is)) write("DELETED", object);
    };
    const rvParam = q.get("resourceVersion");
    const sendInitial = isTrue(q.get("sendInitialEvents"));
    const bookmarks = isTrue(q.get("allowWatchBookmarks"));
    const bookmark = (annotations?: JsonObject) =>
      write("BOOKMARK", {
        kind: type.kind,
        apiVersion: groupVersion(type),
        metadata: { resourceVersion: String(store.resourceVersion), ...(annotations ? { annotations } : {}) },
      });
    if (!rvParam || rvParam === "0" || sendInitial) {
      for (const o of store.list(type, namespace, selectors)) write("ADDED", o);
      if (sendInitial) bookmark({ "k8s.io/initial-events-end": "true" });
    } else {
      const from = Number(rvParam);
      const missed = Number.isFinite(from) ? store.eventsSince(from) : undefined;
      if (!missed) {
        write("ERROR", {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: `too old resource version: ${rvParam} (${store.oldestWatchableVersion})`,
          reason: "Expired",
          code: 410,
        });
        res.end();
        return;
      }
      for (const e of missed) deliver(e);
    }
    const unsubscribe = store.subscribe(deliver);
    const timers: NodeJS.Timeout[] = [];
    if (bookmarks) timers.push(setInterval(() => bookmark(), this.opts.bookmarkIntervalMs ?? 60_000));
    const timeout = Number(q.get("timeoutSeconds") ?? 0);
    const close = () => {
      unsubscribe();
      for (const t of timers) clearInterval(t);
      this.closers.delete(close);
      res.end();
    };
    if (timeout > 0) timers.push(setTimeout(close, timeout * 1000));
    this.closers.add(close);
    res.on("close", close);
  }

  private podLog(req: Request, res: http.ServerResponse, route: ResourceRoute) {
    const logs = this.opts.logs;
    const pod = this.opts.store.get(route.type, route.namespace, route.name as string);
    if (!logs) throw badRequest("this simulated cluster runs no containers");
    const container = req.query.get("container") ?? undefined;
    let lines = logs.read(pod, container);
    const tail = req.query.get("tailLines");
    if (tail !== null) lines = lines.slice(Math.max(0, lines.length - Number(tail)));
    res.writeHead(200, { "content-type": "text/plain" });
    for (const line of lines) res.write(`${line}\n`);
    if (!isTrue(req.query.get("follow"))) return res.end();
    const stop = logs.follow(pod, container, (line) => res.write(`${line}\n`));
    const close = () => {
      stop();
      this.closers.delete(close);
      res.end();
    };
    this.closers.add(close);
    res.on("close", close);
  }

  private scale(req: Request, res: http.ServerResponse, route: ResourceRoute, manager: string) {
    const store = this.opts.store;
    const { type, namespace } = route;
    const name = route.name as string;
    const toScale = (o: KubeObject): JsonObject => ({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name,
        namespace: namespace ?? null,
        uid: o.metadata.uid ?? null,
        resourceVersion: o.metadata.resourceVersion ?? null,
        creationTimestamp: o.metadata.creationTimestamp ?? null,
      },
      spec: { replicas: Number(obj(o.spec)?.replicas ?? 1) },
      status: {
        replicas: Number(obj(o.status)?.replicas ?? 0),
        selector: Object.entries(obj(obj(obj(o.spec)?.selector)?.matchLabels) ?? {})
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(","),
      },
    });
    const current = store.get(type, namespace, name);
    if (req.method === "GET") return send(res, 200, toScale(current));
    let replicas: Json | undefined;
    if (req.method === "PUT") replicas = obj(obj(parseBody(req))?.spec)?.replicas;
    else if (req.method === "PATCH") {
      const patch = parseBody(req);
      replicas = obj(obj(patch)?.spec)?.replicas;
      if (Array.isArray(patch)) {
        const op = patch.find((p) => isObject(p) && p.path === "/spec/replicas");
        replicas = isObject(op) ? op.value : undefined;
      }
    } else
      throw new StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    if (typeof replicas !== "number" || replicas < 0) throw badRequest("spec.replicas must be a non-negative integer");
    const updated = store.patch(type, namespace, name, "merge", { spec: { replicas } }, { manager });
    return send(res, 200, toScale(updated));
  }
}
