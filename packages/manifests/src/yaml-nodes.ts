import { Document, isMap, isScalar, isSeq, type Node, type Scalar, visit, YAMLMap, YAMLSeq } from "yaml";

/**
 * Strings a YAML 1.1 reader takes for something else: Kubernetes tooling built on go-yaml v2 reads
 * `on`, `yes`, `off` as booleans and `1_000`, `0755`, `1:30` as numbers. yaml (1.2) would write them
 * plain, so the values this package writes are quoted whenever they look like that.
 */
function readsAsNonString(value: string): boolean {
  return (
    /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|~|null|Null|NULL|)$/.test(
      value,
    ) ||
    /^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|[0-9_.:]+([eE][-+]?[0-9]+)?|\.(inf|Inf|INF))$/.test(value) ||
    /^\.(nan|NaN|NAN)$/.test(value)
  );
}

export function quoteIfAmbiguous(node: Scalar): void {
  if (
    typeof node.value === "string" &&
    readsAsNonString(node.value) &&
    (node.type === undefined || node.type === "PLAIN")
  ) {
    node.type = "QUOTE_DOUBLE";
  }
}

/** A node for plain data; repeated objects are written out again, never as YAML anchors and aliases. */
export function createNode(doc: Document, value: unknown): Node {
  const node = doc.createNode(value, { aliasDuplicateObjects: false });
  if (isScalar(node)) quoteIfAmbiguous(node);
  else visit(node, { Scalar: (_key, scalar) => quoteIfAmbiguous(scalar) });
  return node;
}

/** A new document holding `value` (plain data), written the way createNode writes. */
export function newDocument(value: unknown): Document {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, { Scalar: (_key, scalar) => quoteIfAmbiguous(scalar) });
  return doc;
}

/** The document's top-level map, created when the document is empty. */
export function rootMap(doc: Document): YAMLMap {
  if (isMap(doc.contents)) return doc.contents;
  const map = new YAMLMap(doc.schema);
  doc.contents = map;
  return map;
}

export function childMap(doc: Document, parent: YAMLMap, key: string, create: true): YAMLMap;
export function childMap(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLMap | null;
export function childMap(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLMap | null {
  const value = parent.get(key);
  if (isMap(value)) return value;
  if (!create) return null;
  const map = new YAMLMap(doc.schema);
  parent.set(key, map);
  return map;
}

export function childSeq(doc: Document, parent: YAMLMap, key: string, create: true): YAMLSeq;
export function childSeq(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLSeq | null;
export function childSeq(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLSeq | null {
  const value = parent.get(key);
  if (isSeq(value)) return value;
  if (!create) return null;
  const seq = new YAMLSeq(doc.schema);
  parent.set(key, seq);
  return seq;
}

/** Appends `value` (plain data) to a sequence; an empty `[]` becomes a block sequence first. */
export function appendTo(doc: Document, seq: YAMLSeq, value: unknown): YAMLMap | Node {
  if (seq.items.length === 0) seq.flow = false;
  const node = createNode(doc, value);
  seq.items.push(node);
  return node;
}

/**
 * Sets `key` to `value`. A scalar replacing a scalar keeps its node (and so its comment and quoting);
 * anything else is built as a new node.
 */
export function setValue(doc: Document, map: YAMLMap, key: string, value: unknown): void {
  const existing = map.get(key, true);
  if (isScalar(existing) && (value === null || typeof value !== "object")) {
    if (existing.value !== value) {
      existing.value = value;
      quoteIfAmbiguous(existing);
    }
    return;
  }
  map.set(key, createNode(doc, value));
}

/** The map item of `seq` whose `key` field equals `value`. */
export function findItem(seq: YAMLSeq, key: string, value: unknown): YAMLMap | undefined {
  for (const item of seq.items) if (isMap(item) && item.get(key) === value) return item;
  return undefined;
}

/** The container named `name` in a Deployment (or a patch of one), created on request. */
export function containerNode(doc: Document, name: string, create: boolean): YAMLMap | null {
  const root = rootMap(doc);
  const spec = childMap(doc, root, "spec", create);
  const template = spec && childMap(doc, spec, "template", create);
  const podSpec = template && childMap(doc, template, "spec", create);
  const containers = podSpec && childSeq(doc, podSpec, "containers", create);
  if (!containers) return null;
  const found = findItem(containers, "name", name);
  if (found || !create) return found ?? null;
  const node = appendTo(doc, containers, { name });
  return isMap(node) ? node : null;
}
