import { isClusterError, type KubeCluster } from "./client.ts";
import { assertKubeName, KubeNameError } from "./names.ts";
import { type KubeObject, MANAGED_BY_JUANIE, type ObjectRef, refOf } from "./objects.ts";

export interface ApplyOptions {
  /** Default "juanie". */
  fieldManager?: string;
  /** Take over fields owned by other managers (default true, as `kubectl apply --server-side --force-conflicts`). */
  force?: boolean;
}

/** RBAC names may hold ':' (system:…); they only must be valid path segments. */
function assertPathSegment(field: string, value: unknown) {
  if (typeof value !== "string" || value === "") throw new KubeNameError(field, `${field} is required`);
  if (value === "." || value === ".." || /[/%]/.test(value)) {
    throw new KubeNameError(field, `${field} "${value}" may not be "." or ".." nor contain '/' or '%'`);
  }
}

/** Throws a KubeNameError (before any request) when the object's identity breaks Kubernetes' rules. */
export function assertObjectIdentity(o: KubeObject | ObjectRef, index?: number): void {
  const where = index === undefined ? "" : `objects[${index}].`;
  if (typeof o?.apiVersion !== "string" || o.apiVersion === "") {
    throw new KubeNameError(`${where}apiVersion`, `${where}apiVersion is required`);
  }
  if (typeof o.kind !== "string" || o.kind === "") throw new KubeNameError(`${where}kind`, `${where}kind is required`);
  const meta = "metadata" in o ? (o.metadata ?? ({} as KubeObject["metadata"])) : (o as ObjectRef);
  const nameField = "metadata" in o ? `${where}metadata.name` : `${where}name`;
  const nsField = "metadata" in o ? `${where}metadata.namespace` : `${where}namespace`;
  if (o.kind === "Namespace" && o.apiVersion === "v1") assertKubeName(nameField, meta.name, "label");
  else if (o.apiVersion.startsWith("rbac.authorization.k8s.io/")) assertPathSegment(nameField, meta.name);
  else assertKubeName(nameField, meta.name, "subdomain");
  if (meta.namespace !== undefined) assertKubeName(nsField, meta.namespace, "label");
}

/** What server-side apply must not receive: server-owned metadata. */
function applyBody(o: KubeObject): KubeObject {
  const copy = structuredClone(o);
  const { managedFields, resourceVersion, uid, creationTimestamp, generation, selfLink, ...meta } = copy.metadata;
  void managedFields;
  void resourceVersion;
  void uid;
  void creationTimestamp;
  void generation;
  void selfLink;
  copy.metadata = meta as KubeObject["metadata"];
  return copy;
}

/**
 * Server-side apply of typed objects (any kind, built-in or custom), in order, with field manager
 * "juanie". Every object's names are checked before the first request. Bodies are sent as given
 * (no client-side model that would drop unknown fields). Returns what the cluster stored.
 */
export async function applyObjects(
  c: KubeCluster,
  objects: readonly KubeObject[],
  opts: ApplyOptions = {},
): Promise<KubeObject[]> {
  objects.forEach((o, i) => {
    assertObjectIdentity(o, objects.length > 1 ? i : undefined);
  });
  const out: KubeObject[] = [];
  for (const o of objects) {
    const body = applyBody(o);
    const path = await c.pathOf(refOf(o));
    const stored = await c.request<KubeObject>({
      method: "PATCH",
      path,
      query: { fieldManager: opts.fieldManager ?? "juanie", force: String(opts.force ?? true) },
      body,
      contentType: "application/apply-patch+yaml",
    });
    out.push(stored);
  }
  return out;
}

/** Reads one object; null when it does not exist (or its kind is not served). */
export async function getObject(c: KubeCluster, ref: ObjectRef): Promise<KubeObject | null> {
  assertObjectIdentity(ref);
  try {
    return await c.request<KubeObject>({ method: "GET", path: await c.pathOf(ref) });
  } catch (e) {
    if (isClusterError(e, "not_found")) return null;
    throw e;
  }
}

/** JSON merge patch of one object (e.g. an annotation or spec.suspend). */
export async function mergePatchObject(
  c: KubeCluster,
  ref: ObjectRef,
  patch: Record<string, unknown>,
): Promise<KubeObject> {
  assertObjectIdentity(ref);
  return await c.request<KubeObject>({
    method: "PATCH",
    path: await c.pathOf(ref),
    query: { fieldManager: "juanie" },
    body: patch,
    contentType: "application/merge-patch+json",
  });
}

/**
 * Deletes one object (dependents in the background). Returns false when it was already gone — a
 * missing object, or a kind the cluster no longer serves, is not an error.
 */
export async function deleteObject(
  c: KubeCluster,
  ref: ObjectRef,
  opts: { propagationPolicy?: "Background" | "Foreground" | "Orphan" } = {},
): Promise<boolean> {
  assertObjectIdentity(ref);
  try {
    await c.request({
      method: "DELETE",
      path: await c.pathOf(ref),
      body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: opts.propagationPolicy ?? "Background" },
    });
    return true;
  } catch (e) {
    if (isClusterError(e, "not_found")) return false;
    throw e;
  }
}

/** Creates or updates a namespace with these labels (plus managed-by juanie) by server-side apply. */
export async function ensureNamespace(
  c: KubeCluster,
  name: string,
  labels: Record<string, string> = {},
  opts: ApplyOptions = {},
): Promise<KubeObject> {
  assertKubeName("namespace", name, "label");
  const [ns] = await applyObjects(
    c,
    [{ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { ...MANAGED_BY_JUANIE, ...labels } } }],
    opts,
  );
  return ns!;
}
