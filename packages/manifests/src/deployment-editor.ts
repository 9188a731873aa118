import type { Document, YAMLMap } from "yaml";
import { isMap, isScalar } from "yaml";
import type { EnvVar, Probe } from "./deploy-spec.ts";
import { PROBE_HANDLERS, PROBE_TIMING, probeToManifest } from "./deployment-values.ts";
import { ManifestError } from "./errors.ts";
import { parseImageReference, splitImage } from "./image-reference.ts";
import {
  type DeploymentSource,
  type Layer,
  layerValue,
  podContainers,
  type ResolvedEnvironment,
  readKustomization,
  renderDeployment,
} from "./kustomize.ts";
import { dirnameOf, joinRepoPath } from "./paths.ts";
import { isObject, type Json, type JsonObject } from "./strategic-merge.ts";
import {
  appendTo,
  childMap,
  childSeq,
  containerNode,
  createNode,
  findItem,
  newDocument,
  ownItems,
  rootMap,
  setValue,
} from "./yaml-nodes.ts";
import type { YamlWorkspace } from "./yaml-workspace.ts";

/** What a change touches: the image, the replica count, or a path inside the container spec. */
type Field = { kind: "image" } | { kind: "replicas" } | { kind: "container"; path: string[] };

type DocLayer = Extract<Layer, { kind: "resource" | "patch" }>;

/** File name of the strategic-merge patch created in an overlay that has none for the Deployment. */
export const PATCH_FILE_NAME = "deployment-patch.yaml";

/**
 * Edits one container of one Deployment of an environment. Each change goes to the last layer that
 * decides the field (so the edit takes effect) if that layer lies inside the environment's path;
 * otherwise to the overlay: `images:` for the image, `replicas:` for the count, a strategic-merge
 * patch for everything else. Layers outside the path (a shared base) are never written.
 */
export class DeploymentEditor {
  constructor(
    private readonly ws: YamlWorkspace,
    private readonly env: ResolvedEnvironment,
    private readonly source: DeploymentSource,
    private readonly container: string,
    private readonly options: { imageVia?: "auto" | "patch" } = {},
  ) {}

  private get layers(): Layer[] {
    return this.source.layers;
  }

  /** The container as rendered from the first `upto` layers. */
  containerAt(upto?: number): JsonObject | undefined {
    const rendered = renderDeployment(this.ws, this.source, upto);
    return podContainers(rendered, "containers").find((c) => c.name === this.container);
  }

  setImage(image: string): void {
    if (this.options.imageVia === "patch") {
      this.setContainerValue(["image"], image);
      return;
    }
    const field: Field = { kind: "image" };
    const i = this.lastTouching(field);
    const layer = this.layers[i];
    if (layer?.writable && layer.kind === "images") {
      this.writeImageEntry(layer.kustomization, this.imageNameBefore(i), image);
    } else if (layer?.writable && (layer.kind === "resource" || layer.kind === "patch")) {
      const doc = this.docOf(layer);
      const container = containerNode(doc, this.container, true);
      if (container) setValue(doc, container, "image", image);
    } else {
      const top = this.topLayer("images", "image");
      this.writeImageEntry(top.kustomization, this.imageNameBefore(top.index), image);
    }
  }

  setReplicas(count: number): void {
    const i = this.lastTouching({ kind: "replicas" });
    const layer = this.layers[i];
    if (layer?.writable && layer.kind === "replicas") {
      this.writeReplicasEntry(layer.kustomization, count);
    } else if (layer?.writable && (layer.kind === "resource" || layer.kind === "patch")) {
      const doc = this.docOf(layer);
      setValue(doc, childMap(doc, rootMap(doc), "spec", true), "replicas", count);
    } else {
      this.writeReplicasEntry(this.topLayer("replicas", "replicas").kustomization, count);
    }
  }

  setContainerValue(path: string[], value: Json): void {
    const { doc, container } = this.containerTarget(path);
    let map = container;
    for (const key of path.slice(0, -1)) map = childMap(doc, map, key, true);
    setValue(doc, map, path[path.length - 1] ?? "", value);
  }

  /** Literal env entries become `env`; valueFrom entries stay (the caller refused name clashes). */
  setEnv(env: EnvVar[]): void {
    const { doc, container, layer, index } = this.containerTarget(["env"]);
    const want = new Map(env.map((e) => [e.name, e.value]));
    const isPatch = layer.kind === "patch";
    // In a patch, entries of the layers below are merged by name: removing one takes `$patch: delete`.
    const below = new Map<string, string>();
    if (isPatch) {
      for (const e of asArray(this.containerAt(index)?.env)) {
        if (isObject(e) && typeof e.name === "string" && e.valueFrom == null) below.set(e.name, String(e.value ?? ""));
      }
    }
    const seq = childSeq(doc, container, "env", true);
    ownItems(doc, seq);
    const handled = new Set<string>();
    for (const item of [...seq.items]) {
      if (!isMap(item)) continue;
      const name = item.get("name");
      if (typeof name !== "string" || item.has("valueFrom")) continue;
      const value = want.get(name);
      if (value !== undefined) {
        item.delete("$patch");
        setValue(doc, item, "value", value);
        handled.add(name);
      } else if (below.has(name)) {
        for (const pair of [...item.items]) {
          const key = isScalar(pair.key) ? pair.key.value : pair.key;
          if (key !== "name") item.delete(key);
        }
        setValue(doc, item, "$patch", "delete");
        handled.add(name);
      } else {
        seq.items.splice(seq.items.indexOf(item), 1);
      }
    }
    for (const [name, value] of want) {
      if (!handled.has(name) && below.get(name) !== value) appendTo(doc, seq, { name, value });
    }
    for (const name of below.keys()) {
      if (!want.has(name) && !handled.has(name)) appendTo(doc, seq, { name, $patch: "delete" });
    }
    if (seq.items.length === 0) container.delete("env");
  }

  /**
   * Sets or removes a probe. Keys the form does not manage (httpHeaders, scheme, successThreshold, ...)
   * are kept while the probe keeps its kind; in a patch, what the layers below set and the new probe
   * does not is cleared with `null`.
   */
  setProbe(key: "livenessProbe" | "readinessProbe", probe: Probe | null): void {
    const { doc, container, layer, index } = this.containerTarget([key]);
    const isPatch = layer.kind === "patch";
    const belowValue = isPatch ? this.containerAt(index)?.[key] : undefined;
    const below = isObject(belowValue) ? belowValue : null;
    if (probe === null) {
      if (below) setValue(doc, container, key, null);
      else container.delete(key);
      return;
    }
    const want = probeToManifest(probe);
    const existing = container.get(key);
    const node: YAMLMap = isMap(existing) ? existing : childMap(doc, container, key, true);
    const clear = (k: string) => {
      if (below && below[k] !== undefined) setValue(doc, node, k, null);
      else node.delete(k);
    };
    for (const handler of PROBE_HANDLERS) {
      const value = want[handler];
      if (!isObject(value)) {
        clear(handler);
        continue;
      }
      const current = node.get(handler);
      if (isMap(current)) for (const [k, v] of Object.entries(value)) setValue(doc, current, k, v);
      else node.set(handler, createNode(doc, value));
    }
    for (const timing of PROBE_TIMING) {
      const value = want[timing];
      if (value !== undefined) setValue(doc, node, timing, value);
      else clear(timing);
    }
  }

  // ---------- where a change goes ----------

  private lastTouching(field: Field): number {
    for (let i = this.layers.length - 1; i >= 0; i--) if (this.touches(i, field)) return i;
    return -1;
  }

  private touches(index: number, field: Field): boolean {
    const layer = this.layers[index];
    if (!layer) return false;
    switch (layer.kind) {
      case "resource":
        if (field.kind !== "container") return true;
        return hasPath(containerIn(layerValue(this.ws, layer), this.container), field.path);
      case "patch":
      case "inline-patch": {
        const value = layerValue(this.ws, layer);
        if (field.kind === "replicas") return hasPath(value, ["spec", "replicas"]);
        const container = containerIn(value, this.container);
        if (isObject(container) && container.$patch !== undefined) return true;
        return hasPath(container, field.kind === "image" ? ["image"] : field.path);
      }
      case "images": {
        if (field.kind !== "image") return false;
        const name = this.imageNameBefore(index);
        return asArray(readKustomization(this.ws, layer.kustomization).images).some(
          (e) => isObject(e) && e.name === name,
        );
      }
      case "replicas":
        return (
          field.kind === "replicas" &&
          asArray(readKustomization(this.ws, layer.kustomization).replicas).some(
            (e) => isObject(e) && e.name === this.source.name,
          )
        );
    }
  }

  /** The document and container node a container-level change is written to. */
  private containerTarget(path: string[]): { doc: Document; container: YAMLMap; layer: DocLayer; index: number } {
    // Nothing sets the field: it belongs with the declaration of the Deployment (layer 0).
    const i = Math.max(0, this.lastTouching({ kind: "container", path }));
    const decisive = this.layers[i];
    let index = i;
    if (!(decisive?.writable && (decisive.kind === "resource" || decisive.kind === "patch"))) {
      index = -1;
      for (let j = this.layers.length - 1; j > i; j--) {
        const l = this.layers[j];
        if (l?.kind === "patch" && l.writable) {
          index = j;
          break;
        }
      }
      if (index < 0) index = this.createPatch(path.join("."));
    }
    const layer = this.layers[index];
    if (!layer || (layer.kind !== "resource" && layer.kind !== "patch")) {
      throw new Error(`DeploymentEditor: layer ${index} is not a document`);
    }
    const doc = this.docOf(layer);
    if (layer.kind === "patch") this.keepContainerOrder(doc, index);
    const container = containerNode(doc, this.container, true);
    if (!container) throw new Error("DeploymentEditor: container node could not be created");
    return { doc, container, layer, index };
  }

  /**
   * A strategic-merge patch puts the containers it names first, in its own order: a patch naming only
   * the second container would make it the first (and kubectl's default). So the patch names every
   * container up to the edited one, in the order of the layers below it (`- name: x` alone merges
   * nothing).
   */
  private keepContainerOrder(doc: Document, index: number): void {
    const below = podContainers(renderDeployment(this.ws, this.source, index), "containers")
      .map((c) => c.name)
      .filter((n): n is string => typeof n === "string");
    const upTo = below.indexOf(this.container);
    if (upTo < 0) return;
    const seq = childSeq(
      doc,
      childMap(doc, childMap(doc, childMap(doc, rootMap(doc), "spec", true), "template", true), "spec", true),
      "containers",
      true,
    );
    ownItems(doc, seq);
    const byName = new Map<string, (typeof seq.items)[number]>();
    const others: (typeof seq.items)[number][] = [];
    for (const item of seq.items) {
      const name = isMap(item) ? item.get("name") : undefined;
      if (typeof name === "string" && below.includes(name) && !byName.has(name)) byName.set(name, item);
      else others.push(item);
    }
    const wanted = below.filter((name, i) => i <= upTo || byName.has(name));
    const current = seq.items.filter((item) => isMap(item) && wanted.includes(String(item.get("name"))));
    const inOrder =
      current.length === wanted.length && current.every((item, i) => isMap(item) && item.get("name") === wanted[i]);
    if (inOrder) return;
    if (seq.items.length === 0) seq.flow = false;
    seq.items = [...wanted.map((name) => byName.get(name) ?? createNode(doc, { name })), ...others];
  }

  /** Adds `deployment-patch.yaml` to the overlay and lists it under `patches:`; returns its layer index. */
  private createPatch(field: string): number {
    const top = this.topLayer("images", field);
    const dir = dirnameOf(top.kustomization);
    const candidates = [PATCH_FILE_NAME, `deployment-patch-${this.source.name}.yaml`];
    for (let n = 2; candidates.length < 100; n++) candidates.push(`deployment-patch-${this.source.name}-${n}.yaml`);
    const fileName = candidates.find((name) => !this.ws.exists(joinRepoPath(dir, name))) ?? PATCH_FILE_NAME;
    const path = joinRepoPath(dir, fileName);
    const kustomization = this.ws.load(top.kustomization);
    this.ws.create(
      path,
      [
        newDocument({
          apiVersion: "apps/v1",
          kind: this.source.kind,
          metadata: { name: this.source.name },
          spec: { template: { spec: { containers: [{ name: this.container }] } } },
        }),
      ],
      kustomization?.style ?? {},
    );
    const doc = this.kustomizationDoc(top.kustomization);
    appendTo(doc, childSeq(doc, rootMap(doc), "patches", true), { path: fileName });
    // The new patch is the overlay's last: after its other patches, before its images and replicas.
    this.layers.splice(top.index, 0, {
      kind: "patch",
      file: path,
      index: 0,
      writable: true,
      kustomization: top.kustomization,
    });
    return top.index;
  }

  /** The environment's own kustomization layer of `kind`; a ManifestError when the path has none. */
  private topLayer(kind: "images" | "replicas", field: string): { kustomization: string; index: number } {
    const kustomization = this.env.kustomization;
    const index = this.layers.findIndex((l) => l.kind === kind && l.kustomization === kustomization);
    if (kustomization === null || index < 0) {
      throw new ManifestError(
        `${field}: cannot be changed in ${this.env.path || "."}: the Deployment ${this.source.name} is declared outside it and there is no kustomization.yaml there to override it`,
        { field },
      );
    }
    return { kustomization, index };
  }

  private imageNameBefore(index: number): string {
    const image = this.containerAt(index)?.image;
    return splitImage(typeof image === "string" ? image : "").name;
  }

  private writeImageEntry(kustomization: string, name: string, image: string): void {
    const ref = parseImageReference(image) ?? splitImage(image);
    const doc = this.kustomizationDoc(kustomization);
    const seq = childSeq(doc, rootMap(doc), "images", true);
    const entry = findItem(doc, seq, "name", name) ?? appendTo(doc, seq, { name });
    if (!isMap(entry)) return;
    if (ref.name !== name) setValue(doc, entry, "newName", ref.name);
    else entry.delete("newName");
    // An entry without newTag and digest keeps the base's tag: a bare image name means `latest`.
    const tag = ref.tag ?? (ref.digest === undefined ? "latest" : undefined);
    if (tag !== undefined) setValue(doc, entry, "newTag", tag);
    else entry.delete("newTag");
    if (ref.digest !== undefined) setValue(doc, entry, "digest", ref.digest);
    else entry.delete("digest");
  }

  private writeReplicasEntry(kustomization: string, count: number): void {
    const doc = this.kustomizationDoc(kustomization);
    const seq = childSeq(doc, rootMap(doc), "replicas", true);
    const entry = findItem(doc, seq, "name", this.source.name);
    if (entry) setValue(doc, entry, "count", count);
    else appendTo(doc, seq, { name: this.source.name, count });
  }

  private kustomizationDoc(path: string): Document {
    const file = this.ws.load(path);
    if (!file) throw new Error(`DeploymentEditor: ${path} vanished`);
    this.ws.touch(path);
    let doc = file.docs[0];
    if (!doc) {
      doc = newDocument({});
      file.docs.push(doc);
    }
    return doc;
  }

  private docOf(layer: DocLayer): Document {
    const doc = this.ws.load(layer.file)?.docs[layer.index];
    if (!doc) throw new Error(`DeploymentEditor: ${layer.file} has no document ${layer.index}`);
    this.ws.touch(layer.file);
    return doc;
  }
}

function asArray(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

function containerIn(value: Json | undefined, name: string): JsonObject | undefined {
  return podContainers(value, "containers").find((c) => c.name === name);
}

/** Whether a patch sets (or deletes, with `null`) the value at `path`. */
function hasPath(value: Json | undefined, path: string[]): boolean {
  let current: Json | undefined = value;
  for (const key of path) {
    if (current === null) return true;
    if (!isObject(current) || !(key in current)) return false;
    current = current[key];
  }
  return current !== undefined;
}
