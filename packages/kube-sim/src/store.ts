import { randomUUID } from "node:crypto";
import { applyDefaults } from "./defaults.ts";
import { alreadyExists, badRequest, invalid, notFound, StatusError, staleConflict } from "./errors.ts";
import { clone, deepEqual, isObject, type Json, type JsonObject, type KubeObject, obj, str } from "./json.ts";
import { lastAppliedAllowance, readManagedFields, type Scope, serverSideApply, trackUpdate } from "./managed-fields.ts";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import { builtinResources, compareVersions, groupVersion, type PrinterColumn, type ResourceType } from "./resources.ts";
import type { Selector } from "./selectors.ts";
import { validateObject, validateUpdate } from "./validation.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  rv: number;
  type: EventType;
  /** group/plural of the object's resource. */
  resource: string;
  object: KubeObject;
  /** The object before this change (for selector transitions in watches). */
  previous?: KubeObject;
}

export type PatchType = "merge" | "json" | "strategic" | "apply";

export interface WriteOptions {
  /** Field manager (the request's `fieldManager`, else derived from the user agent). */
  manager: string;
  dryRun?: boolean;
  /** `status` for the status subresource; otherwise the object without its status. */
  scope?: Scope;
  force?: boolean;
}

export interface StoreOptions {
  /** Watch events kept for resuming watches; an older resourceVersion gets 410 Gone. */
  historySize?: number;
  /** Delay before a new CRD is Established and its kinds served (a real API server takes a moment too). */
  crdEstablishDelayMs?: number;
  /**
   * Pods are deleted gracefully: they show Terminating (deletionTimestamp) until the kubelet removes them.
   * Only with a kubelet (the workload controller), or they would stay Terminating forever.
   */
  gracefulPodDeletion?: boolean;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const resourceId = (r: { group: string; plural: string }) => `${r.group}/${r.plural}`;
const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`;

/** `2026-12-03T14:10:26Z`: Kubernetes timestamps have second precision. */
export const timestamp = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, "Z");

/**
 * The simulated cluster's state: every object of every served resource, one resourceVersion counter (like
 * etcd's revision), a bounded history of changes for watches, and the rules a real API server enforces on
 * writes (namespaces, names, resourceVersion preconditions, generation, finalizers, owner-reference garbage
 * collection, CRDs that make their kinds served).
 */
export class ClusterStore {
  private rv = 0;
  /** Events with rv ≤ this are forgotten: watching from before it is 410 Gone. */
  private compactedRv = 0;
  private history: StoredEvent[] = [];
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  /** group/plural → served versions. */
  private readonly types = new Map<string, ResourceType[]>();
  private readonly listeners = new Set<(e: StoredEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly historySize: number;
  private readonly crdDelay: number;
  readonly gracefulPodDeletion: boolean;

  constructor(opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 10_000;
    this.crdDelay = opts.crdEstablishDelayMs ?? 20;
    this.gracefulPodDeletion = opts.gracefulPodDeletion ?? false;
    for (const r of builtinResources()) this.types.set(resourceId(r), [r]);
  }

  private nextIp = 1;
  private allocateIp(): string {
    const n = this.nextIp++;
    return `10.43.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableVersion(): number {
    return this.compactedRv;
  }

  /** Every served resource type (each version separately). */
  resourceTypes(): ResourceType[] {
    return [...this.types.values()].flat();
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(`${group}/${plural}`)?.find((r) => r.version === version);
  }

  findKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.resourceTypes().find((r) => groupVersion(r) === apiVersion && r.kind === kind);
  }

  subscribe(listener: (e: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes after `rv`, or undefined when they are no longer known (the watch must get 410). */
  eventsSince(rv: number): StoredEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  /** Forgets the change history, like etcd compaction: watches resuming from an older version get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }

  // ---- reads ----

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.objects.get(resourceId(type))?.get(objectKey(type.namespaced ? namespace : undefined, name));
    if (!found) throw notFound(type.plural, type.group, name);
    return this.served(type, found);
  }

  tryGet(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.objects.get(resourceId(type))?.get(objectKey(type.namespaced ? namespace : undefined, name));
    return found ? this.served(type, found) : undefined;
  }

  list(type: ResourceType, namespace: string | undefined, selectors: Selector[] = []): KubeObject[] {
    const bucket = this.objects.get(resourceId(type));
    if (!bucket) return [];
    // Map keys are "<namespace>/<name>": sorting them sorts the list as a real API server does.
    const keys = [...bucket.keys()].sort();
    const out: KubeObject[] = [];
    for (const key of keys) {
      const o = bucket.get(key) as KubeObject;
      if (namespace && type.namespaced && obj(o.metadata)?.namespace !== namespace) continue;
      if (!selectors.every((s) => s(o))) continue;
      out.push(this.served(type, o));
    }
    return out;
  }

  /** The object as served at the requested version (no conversion: versions share one schema). */
  served(type: ResourceType, o: KubeObject): KubeObject {
    const out = clone(o);
    out.apiVersion = groupVersion(type);
    return out;
  }

  // ---- writes ----

  create(type: ResourceType, namespace: string | undefined, body: Json, opts: WriteOptions): KubeObject {
    const object = this.checkBody(type, body);
    const meta = object.metadata;
    if (!str(meta.name) && str(meta.generateName)) meta.name = `${meta.generateName}${randomSuffix()}`;
    const name = this.checkName(type, meta);
    const ns = this.checkNamespace(type, namespace ?? str(meta.namespace), meta);
    if (this.objects.get(resourceId(type))?.has(objectKey(ns, name))) {
      throw alreadyExists(type.plural, type.group, name);
    }
    for (const k of ["resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "generation"]) delete meta[k];
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    if (type.tracksGeneration || !type.builtin) meta.generation = 1;
    if (type.kind === "Namespace") this.defaultNamespace(object);
    if (type.subresources.includes("status") && opts.scope !== "status" && type.kind !== "Namespace") {
      delete object.status;
    }
    delete meta.managedFields;
    validateObject(type, object);
    trackUpdate({
      type,
      before: undefined,
      after: object,
      manager: opts.manager,
      apiVersion: groupVersion(type),
      scope: "main",
    });
    applyDefaults(type, object, () => this.allocateIp());
    if (opts.dryRun) return this.served(type, { ...object, metadata: { ...meta, resourceVersion: String(this.rv) } });
    return this.commit(type, "ADDED", object, undefined);
  }

  /** PUT: replaces the object (or its status), with the resourceVersion precondition when the body has one. */
  update(type: ResourceType, namespace: string | undefined, name: string, body: Json, opts: WriteOptions): KubeObject {
    const current = this.get(type, namespace, name);
    const object = this.checkBody(type, body);
    if (str(object.metadata.name) && object.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    object.metadata.name = name;
    if (!type.builtin && !str(object.metadata.resourceVersion)) {
      throw invalid(type.kind, type.group, name, [
        { field: "metadata.resourceVersion", message: "Invalid value: 0x0: must be specified for an update" },
      ]);
    }
    const changedFields = !deepEqual(object.metadata.managedFields, current.metadata.managedFields);
    return this.replace(type, current, object, opts, changedFields ? explicitManagedFields(body) : {});
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    patch: Json,
    opts: WriteOptions,
  ): KubeObject {
    const scope = opts.scope ?? "main";
    const current = this.tryGet(type, namespace, name);
    if (patchType === "apply") {
      if (!isObject(patch)) throw badRequest("the applied configuration must be an object");
      const applied = this.checkBody(type, patch);
      if (str(applied.metadata.name) !== name) {
        throw badRequest(
          `the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`,
        );
      }
      if (!current) {
        if (scope === "status") throw notFound(type.plural, type.group, name);
        const created = serverSideApply({
          type,
          current: undefined,
          applied,
          manager: opts.manager,
          force: true,
          scope,
        });
        return this.createApplied(type, namespace, created, opts);
      }
      const rvPrecondition = str(applied.metadata.resourceVersion);
      if (rvPrecondition && rvPrecondition !== str(current.metadata.resourceVersion)) {
        throw staleConflict(type.plural, type.group, name);
      }
      const allowance = lastAppliedAllowance(type, current, opts.manager);
      const merged = serverSideApply({
        type,
        current,
        applied,
        manager: opts.manager,
        force: opts.force ?? false,
        scope,
        ...(allowance ? { allowedConflicts: allowance } : {}),
      });
      return this.replace(
        type,
        current,
        merged as KubeObject,
        { ...opts, preconditionChecked: true },
        {
          explicitEntries: readManagedFields(merged),
          keepManagedFields: true,
        },
      );
    }
    if (!current) throw notFound(type.plural, type.group, name);
    let patched: Json;
    if (patchType === "merge") patched = mergePatch(current, patch);
    else if (patchType === "json") patched = jsonPatch(current, patch);
    else {
      if (!type.builtin) {
        throw new StatusError(
          415,
          "UnsupportedMediaType",
          "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        );
      }
      patched = strategicMergePatch(type, current, patch);
    }
    if (!isObject(patched)) throw badRequest("the patch did not produce an object");
    const patchedMeta = obj(patched.metadata) ?? {};
    patched.metadata = patchedMeta;
    // A patch that changes the resourceVersion sends a precondition; otherwise it applies to the latest.
    const sentRv = str(patchedMeta.resourceVersion);
    if (sentRv && sentRv !== str(current.metadata.resourceVersion)) throw staleConflict(type.plural, type.group, name);
    const beforeFields = JSON.stringify(current.metadata.managedFields ?? null);
    const explicit = JSON.stringify(patchedMeta.managedFields ?? null) !== beforeFields;
    return this.replace(
      type,
      current,
      patched as KubeObject,
      { ...opts, preconditionChecked: true },
      explicit ? { explicitEntries: readManagedFields(patched) } : {},
    );
  }

  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: {
      dryRun?: boolean;
      propagationPolicy?: string;
      preconditions?: { uid?: string; resourceVersion?: string };
      /** 0 deletes a pod at once; otherwise a pod is Terminating until the kubelet removes it. */
      gracePeriodSeconds?: number;
    } = {},
  ): KubeObject {
    const current = this.get(type, namespace, name);
    const meta = current.metadata;
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== str(meta.resourceVersion)) {
      throw staleConflict(type.plural, type.group, name);
    }
    if (opts.preconditions?.uid && opts.preconditions.uid !== str(meta.uid)) {
      throw new StatusError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${type.group ? `${type.plural}.${type.group}` : type.plural} "${name}": Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${String(meta.uid)}`,
      );
    }
    if (opts.dryRun) return current;
    const graceful =
      this.gracefulPodDeletion && type.kind === "Pod" && type.group === "" && opts.gracePeriodSeconds !== 0;
    if (graceful) {
      if (meta.deletionTimestamp) return current;
      const next = clone(current);
      next.metadata.deletionTimestamp = timestamp();
      next.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? 30;
      return this.commit(type, "MODIFIED", next, current);
    }
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
    if (finalizers.length > 0 || (type.kind === "Namespace" && this.namespaceHasContent(name))) {
      if (!meta.deletionTimestamp) {
        const next = clone(current);
        next.metadata.deletionTimestamp = timestamp();
        next.metadata.deletionGracePeriodSeconds = 0;
        if (type.kind === "Namespace") next.status = { phase: "Terminating" };
        this.commit(type, "MODIFIED", next, current);
      }
      if (type.kind === "Namespace") this.emptyNamespace(name);
      const after = this.tryGet(type, namespace, name);
      if (
        after &&
        type.kind === "Namespace" &&
        (!Array.isArray(after.metadata.finalizers) || after.metadata.finalizers.length === 0)
      ) {
        return this.remove(type, after, opts.propagationPolicy);
      }
      return after ?? current;
    }
    return this.remove(type, current, opts.propagationPolicy);
  }

  // ---- internals ----

  private createApplied(type: ResourceType, namespace: string | undefined, object: JsonObject, opts: WriteOptions) {
    const obj2 = this.checkBody(type, object);
    const name = this.checkName(type, obj2.metadata);
    const ns = this.checkNamespace(type, namespace ?? str(obj2.metadata.namespace), obj2.metadata);
    if (this.objects.get(resourceId(type))?.has(objectKey(ns, name)))
      throw alreadyExists(type.plural, type.group, name);
    obj2.metadata.uid = randomUUID();
    obj2.metadata.creationTimestamp = timestamp();
    if (type.tracksGeneration || !type.builtin) obj2.metadata.generation = 1;
    if (type.kind === "Namespace") this.defaultNamespace(obj2);
    validateObject(type, obj2);
    applyDefaults(type, obj2, () => this.allocateIp());
    if (opts.dryRun) return this.served(type, obj2);
    return this.commit(type, "ADDED", obj2, undefined);
  }

  private replace(
    type: ResourceType,
    current: KubeObject,
    incoming: KubeObject,
    opts: WriteOptions & { preconditionChecked?: boolean },
    fields: { explicitEntries?: ReturnType<typeof readManagedFields>; keepManagedFields?: boolean },
  ): KubeObject {
    const scope = opts.scope ?? "main";
    const name = str(current.metadata.name) as string;
    const sentRv = str(incoming.metadata.resourceVersion);
    if (!opts.preconditionChecked && sentRv && sentRv !== str(current.metadata.resourceVersion)) {
      throw staleConflict(type.plural, type.group, name);
    }
    let next: KubeObject;
    if (scope === "status") {
      next = clone(current);
      if (incoming.status === undefined) delete next.status;
      else next.status = clone(incoming.status);
      if (fields.keepManagedFields) next.metadata.managedFields = clone(incoming.metadata.managedFields ?? null);
    } else {
      next = clone(incoming);
      next.apiVersion = current.apiVersion;
      next.kind = current.kind;
      if (type.subresources.includes("status") && type.kind !== "Namespace") {
        if (current.status === undefined) delete next.status;
        else next.status = clone(current.status);
      }
      // Identity and server-owned metadata cannot be changed by a client.
      for (const k of ["uid", "creationTimestamp", "namespace", "name", "deletionTimestamp", "generation"]) {
        if (current.metadata[k] === undefined) delete next.metadata[k];
        else next.metadata[k] = clone(current.metadata[k] as Json);
      }
      if (!fields.keepManagedFields && !fields.explicitEntries)
        next.metadata.managedFields = clone(current.metadata.managedFields ?? null);
      if (next.metadata.managedFields === null) delete next.metadata.managedFields;
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion as Json;
    if (!fields.keepManagedFields) {
      trackUpdate({
        type,
        before: current,
        after: next,
        manager: opts.manager,
        apiVersion: groupVersion(type),
        scope,
        ...(fields.explicitEntries ? { explicitEntries: fields.explicitEntries } : {}),
      });
    }
    if (scope === "main") {
      validateObject(type, next);
      validateUpdate(type, current, next);
      applyDefaults(type, next, () => this.allocateIp());
    }
    if ((type.tracksGeneration || !type.builtin) && scope === "main" && specChanged(current, next)) {
      next.metadata.generation = Number(current.metadata.generation ?? 0) + 1;
    }
    if (deepEqual(next, current)) return current;
    if (opts.dryRun) return this.served(type, next);
    // The last finalizer removed from an object being deleted: it goes away now.
    const finalizers = Array.isArray(next.metadata.finalizers) ? next.metadata.finalizers : [];
    if (
      next.metadata.deletionTimestamp &&
      finalizers.length === 0 &&
      !(type.kind === "Namespace" && this.namespaceHasContent(name))
    ) {
      const stored = this.commit(type, "MODIFIED", next, current);
      return this.remove(type, stored, "Background");
    }
    return this.commit(type, "MODIFIED", next, current);
  }

  private remove(type: ResourceType, current: KubeObject, propagationPolicy = "Background"): KubeObject {
    const ns = str(current.metadata.namespace);
    const name = str(current.metadata.name) as string;
    this.objects.get(resourceId(type))?.delete(objectKey(type.namespaced ? ns : undefined, name));
    this.rv++;
    const gone = clone(current);
    gone.metadata.resourceVersion = String(this.rv);
    this.record({ rv: this.rv, type: "DELETED", resource: resourceId(type), object: gone, previous: current });
    if (type.kind === "CustomResourceDefinition") this.unregisterCrd(current);
    if (propagationPolicy !== "Orphan") this.collectDependents(str(current.metadata.uid) as string);
    return this.served(type, gone);
  }

  /** Writes the object with the next resourceVersion and tells every watcher. */
  commit(type: ResourceType, eventType: EventType, object: KubeObject, previous: KubeObject | undefined): KubeObject {
    const id = resourceId(type);
    let bucket = this.objects.get(id);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(id, bucket);
    }
    this.rv++;
    const stored = clone(object);
    stored.metadata.resourceVersion = String(this.rv);
    bucket.set(
      objectKey(type.namespaced ? str(stored.metadata.namespace) : undefined, str(stored.metadata.name) as string),
      stored,
    );
    this.record({ rv: this.rv, type: eventType, resource: id, object: stored, ...(previous ? { previous } : {}) });
    if (type.kind === "CustomResourceDefinition" && type.group === "apiextensions.k8s.io") this.onCrdWritten(stored);
    return this.served(type, stored);
  }

  private record(event: StoredEvent) {
    this.history.push(event);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.compactedRv = (dropped[dropped.length - 1] as StoredEvent).rv;
    }
    for (const l of [...this.listeners]) l(event);
  }

  private checkBody(type: ResourceType, body: Json): KubeObject {
    if (!isObject(body)) throw badRequest("the request body must be a Kubernetes object");
    const object = clone(body) as KubeObject;
    const meta = obj(object.metadata) ?? {};
    object.metadata = meta;
    if (object.kind !== undefined && object.kind !== type.kind) {
      throw badRequest(`the kind of the object (${String(object.kind)}) does not match the resource (${type.kind})`);
    }
    if (object.apiVersion !== undefined) {
      const gv = String(object.apiVersion);
      const versions = this.types.get(resourceId(type))?.map(groupVersion) ?? [];
      if (!versions.includes(gv)) {
        throw badRequest(
          `the API version in the data (${gv}) does not match the expected API version (${groupVersion(type)})`,
        );
      }
    }
    object.kind = type.kind;
    object.apiVersion = groupVersion(type);
    return object;
  }

  private checkName(type: ResourceType, meta: JsonObject): string {
    const name = str(meta.name);
    if (!name) {
      throw invalid(type.kind, type.group, "", [
        { field: "metadata.name", message: "Required value: name or generateName is required" },
      ]);
    }
    const label = type.kind === "Namespace" || type.kind === "Service";
    const rule = label ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
    if (!rule.test(name) || name.length > (label ? 63 : 253)) {
      const what = label ? "RFC 1123 label" : "RFC 1123 subdomain";
      const example = label ? "'my-name',  or '123-abc'" : "'example.com'";
      const regex = label
        ? "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
        : "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
      const chars = label
        ? "lower case alphanumeric characters or '-'"
        : "lower case alphanumeric characters, '-' or '.'";
      throw invalid(type.kind, type.group, name, [
        {
          field: "metadata.name",
          message: `Invalid value: "${name}": a lowercase ${what} must consist of ${chars}, and must start and end with an alphanumeric character (e.g. ${example}, regex used for validation is '${regex}')`,
        },
      ]);
    }
    return name;
  }

  private checkNamespace(type: ResourceType, namespace: string | undefined, meta: JsonObject): string | undefined {
    if (!type.namespaced) {
      delete meta.namespace;
      return undefined;
    }
    const ns = namespace ?? "default";
    if (str(meta.namespace) && meta.namespace !== ns) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta.namespace = ns;
    const nsType = this.find("", "v1", "namespaces") as ResourceType;
    const namespaceObject = this.tryGet(nsType, undefined, ns);
    if (!namespaceObject) throw notFound("namespaces", "", ns);
    if (namespaceObject.metadata.deletionTimestamp) {
      throw new StatusError(
        403,
        "Forbidden",
        `${type.group ? `${type.plural}.${type.group}` : type.plural} "${String(meta.name)}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
    return ns;
  }

  private defaultNamespace(object: KubeObject) {
    const meta = object.metadata;
    meta.labels = { ...(obj(meta.labels) ?? {}), "kubernetes.io/metadata.name": String(meta.name) };
    object.spec = { finalizers: ["kubernetes"] };
    object.status = { phase: "Active" };
  }

  private namespaceHasContent(ns: string): boolean {
    for (const [id, bucket] of this.objects) {
      const type = this.types.get(id)?.[0];
      if (!type?.namespaced) continue;
      for (const o of bucket.values()) if (obj(o.metadata)?.namespace === ns) return true;
    }
    return false;
  }

  /** A namespace being deleted takes everything in it along. */
  private emptyNamespace(ns: string) {
    for (const [id, bucket] of [...this.objects]) {
      const type = this.types.get(id)?.[0];
      if (!type?.namespaced) continue;
      for (const o of [...bucket.values()]) {
        if (obj(o.metadata)?.namespace !== ns) continue;
        const fin = obj(o.metadata)?.finalizers;
        if (Array.isArray(fin) && fin.length > 0) {
          if (!obj(o.metadata)?.deletionTimestamp) {
            const next = clone(o);
            next.metadata.deletionTimestamp = timestamp();
            this.commit(type, "MODIFIED", next, o);
          }
          continue;
        }
        this.remove(type, this.served(type, o));
      }
    }
  }

  /** Garbage collection: objects owned (ownerReferences) by a deleted object are deleted too. */
  private collectDependents(uid: string) {
    for (const [id, bucket] of [...this.objects]) {
      const type = this.types.get(id)?.[0];
      if (!type) continue;
      for (const o of [...bucket.values()]) {
        const refs = obj(o.metadata)?.ownerReferences;
        if (!Array.isArray(refs) || !refs.some((r) => isObject(r) && r.uid === uid)) continue;
        try {
          this.delete(type, str(obj(o.metadata)?.namespace), str(obj(o.metadata)?.name) as string);
        } catch (e) {
          if (!(e instanceof StatusError && e.code === 404)) throw e;
        }
      }
    }
  }

  // ---- CustomResourceDefinitions ----

  private onCrdWritten(crd: KubeObject) {
    const spec = obj(crd.spec);
    const names = obj(spec?.names);
    const group = str(spec?.group);
    const plural = str(names?.plural);
    const kind = str(names?.kind);
    const versions = Array.isArray(spec?.versions) ? spec.versions.filter(isObject) : [];
    if (!group || !plural || !kind || versions.length === 0 || crd.metadata.deletionTimestamp) return;
    const namespaced = spec?.scope !== "Cluster";
    const served: ResourceType[] = versions
      .filter((v) => v.served !== false && str(v.name))
      .map((v) => {
        const columns: PrinterColumn[] = (Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : [])
          .filter(isObject)
          .map((c) => ({
            name: String(c.name ?? ""),
            type: String(c.type ?? "string"),
            jsonPath: String(c.jsonPath ?? ""),
            ...(typeof c.priority === "number" ? { priority: c.priority } : {}),
            ...(typeof c.description === "string" ? { description: c.description } : {}),
          }));
        const subs = obj(v.subresources);
        const schema = obj(obj(v.schema)?.openAPIV3Schema);
        return {
          group,
          version: str(v.name) as string,
          kind,
          listKind: str(names?.listKind) ?? `${kind}List`,
          plural,
          singular: str(names?.singular) ?? kind.toLowerCase(),
          namespaced,
          shortNames: (Array.isArray(names?.shortNames) ? names.shortNames : []).map(String),
          categories: (Array.isArray(names?.categories) ? names.categories : []).map(String),
          subresources: [...(subs?.status ? (["status"] as const) : []), ...(subs?.scale ? (["scale"] as const) : [])],
          builtin: false,
          tracksGeneration: true,
          columns,
          ...(schema ? { schema } : {}),
        };
      })
      .sort((a, b) => compareVersions(a.version, b.version));
    const establish = () => {
      this.types.set(`${group}/${plural}`, served);
      const crdType = this.find("apiextensions.k8s.io", "v1", "customresourcedefinitions") as ResourceType;
      const current = this.tryGet(crdType, undefined, str(crd.metadata.name) as string);
      if (!current) return;
      const storage = versions.find((v) => v.storage === true) ?? versions[0];
      const now = timestamp();
      const status: JsonObject = {
        conditions: [
          {
            type: "NamesAccepted",
            status: "True",
            reason: "NoConflicts",
            message: "no conflicts found",
            lastTransitionTime: now,
          },
          {
            type: "Established",
            status: "True",
            reason: "InitialNamesAccepted",
            message: "the initial names have been accepted",
            lastTransitionTime: now,
          },
        ],
        acceptedNames: clone(names ?? {}),
        storedVersions: [str(storage?.name) ?? ""],
      };
      const existing = obj(current.status);
      if (
        existing &&
        deepEqual(existing.acceptedNames, status.acceptedNames) &&
        Array.isArray(existing.conditions) &&
        existing.conditions.length === 2
      )
        return;
      const next = clone(current);
      next.status = status;
      trackUpdate({
        type: crdType,
        before: current,
        after: next,
        manager: "kube-apiserver",
        apiVersion: "apiextensions.k8s.io/v1",
        scope: "status",
      });
      this.commit(crdType, "MODIFIED", next, current);
    };
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      establish();
    }, this.crdDelay);
    this.timers.add(timer);
  }

  private unregisterCrd(crd: KubeObject) {
    const spec = obj(crd.spec);
    const id = `${str(spec?.group)}/${str(obj(spec?.names)?.plural)}`;
    const types = this.types.get(id);
    if (!types) return;
    const bucket = this.objects.get(id);
    for (const o of [...(bucket?.values() ?? [])]) this.remove(types[0] as ResourceType, o);
    this.objects.delete(id);
    this.types.delete(id);
  }
}

function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rest as JsonObject;
  };
  return !deepEqual(strip(a), strip(b));
}

function randomSuffix(): string {
  const chars = "bcdfghjklmnpqrstvwxz2456789";
  let s = "";
  for (let i = 0; i < 5; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

function explicitManagedFields(body: Json): { explicitEntries?: ReturnType<typeof readManagedFields> } {
  const meta = isObject(body) ? obj(body.metadata) : undefined;
  if (!meta || !Array.isArray(meta.managedFields)) return {};
  return { explicitEntries: readManagedFields(body as JsonObject) };
}
