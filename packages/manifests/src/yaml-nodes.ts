import {
  Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  type Scalar,
  visit,
  YAMLMap,
  YAMLSeq,
} from "yaml";

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
    /^\.(nan|NaN|NAN)$/.test(value) ||
    // YAML 1.1 timestamps and the merge/value keys
    /^\d{4}-\d\d?-\d\d?([Tt ]|$)/.test(value) ||
    value === "<<" ||
    value === "="
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

// ---------- shared nodes (anchors, aliases, merge keys) ----------
//
// An edit must change one value in one place. YAML lets a file share a node (`resources: &res`, then
// `resources: *res` elsewhere, or `<<: *defaults`): writing through the share would change every user
// of it, and replacing an alias with a new map would drop what it shared. So before an edit descends
// into a node, that node becomes the map's own: an alias is replaced by a copy of what it points to,
// a value inherited through a merge key is copied in, and an anchored node that others alias gives
// them copies of itself first.

function keyName(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function isMergePair(pair: Pair): boolean {
  const key = keyName(pair);
  return typeof key === "symbol" || key === "<<";
}

/** A copy of `node` with no anchors of its own (a second anchor of the same name would be an error). */
function copyOf(node: Node): Node {
  const copy = node.clone() as Node;
  if (isNode(copy)) copy.anchor = undefined;
  if (isCollection(copy)) {
    visit(copy, {
      Node: (_k, n) => {
        n.anchor = undefined;
      },
    });
  }
  return copy;
}

function resolved(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** Gives every alias of `node` its own copy of it, so that `node` can change alone. */
function unshare(doc: Document, node: unknown): void {
  if (!isNode(node) || !node.anchor) return;
  const copy = copyOf(node);
  visit(doc, {
    Alias: (_key, alias) => (alias.resolve(doc) === node ? copyOf(copy) : undefined),
  });
  node.anchor = undefined;
}

/** The maps a merge key (`<<: *a` or `<<: [*a, *b]`) of `map` brings in, first one first. */
function mergeSources(doc: Document, map: YAMLMap): YAMLMap[] {
  const out: YAMLMap[] = [];
  for (const pair of map.items) {
    if (!isMergePair(pair)) continue;
    const value = resolved(doc, pair.value);
    const list = isSeq(value) ? value.items.map((i) => resolved(doc, i)) : [value];
    for (const m of list) if (isMap(m)) out.push(m);
  }
  return out;
}

/** `key`'s value node as `map`'s own, unshared one; `undefined` when neither `map` nor a merge source has it. */
export function ownNode(doc: Document, map: YAMLMap, key: string): unknown {
  const pair = map.items.find((p) => isPair(p) && !isMergePair(p) && keyName(p) === key);
  if (pair) {
    if (isAlias(pair.value)) {
      const target = pair.value.resolve(doc);
      pair.value = isNode(target) ? copyOf(target) : target;
    } else unshare(doc, pair.value);
    return pair.value;
  }
  for (const source of mergeSources(doc, map)) {
    const inherited = source.items.find((p) => isPair(p) && !isMergePair(p) && keyName(p) === key);
    if (!inherited) continue;
    const value = resolved(doc, inherited.value);
    const copy = isNode(value) ? copyOf(value) : value;
    map.set(key, copy);
    return copy;
  }
  return undefined;
}

/** The items of `seq` as its own nodes (aliased items replaced by copies, anchored ones unshared). */
export function ownItems(doc: Document, seq: YAMLSeq): void {
  seq.items = seq.items.map((item) => {
    if (!isAlias(item)) {
      unshare(doc, item);
      return item;
    }
    const target = item.resolve(doc);
    return isNode(target) ? copyOf(target) : target;
  });
}

export function childMap(doc: Document, parent: YAMLMap, key: string, create: true): YAMLMap;
export function childMap(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLMap | null;
export function childMap(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLMap | null {
  const value = ownNode(doc, parent, key);
  if (isMap(value)) return value;
  if (!create) return null;
  const map = new YAMLMap(doc.schema);
  parent.set(key, map);
  return map;
}

export function childSeq(doc: Document, parent: YAMLMap, key: string, create: true): YAMLSeq;
export function childSeq(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLSeq | null;
export function childSeq(doc: Document, parent: YAMLMap, key: string, create: boolean): YAMLSeq | null {
  const value = ownNode(doc, parent, key);
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
  const existing = ownNode(doc, map, key);
  if (isScalar(existing) && (value === null || typeof value !== "object")) {
    if (existing.value !== value) {
      existing.value = value;
      quoteIfAmbiguous(existing);
    }
    return;
  }
  map.set(key, createNode(doc, value));
}

/** The map item of `seq` whose `key` field equals `value`, made `seq`'s own (see ownNode). */
export function findItem(doc: Document, seq: YAMLSeq, key: string, value: unknown): YAMLMap | undefined {
  for (const [i, item] of seq.items.entries()) {
    const map = resolved(doc, item);
    if (!isMap(map) || map.get(key) !== value) continue;
    if (isAlias(item)) {
      const copy = copyOf(map);
      seq.items[i] = copy;
      return isMap(copy) ? copy : undefined;
    }
    unshare(doc, map);
    return map;
  }
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
  const found = findItem(doc, containers, "name", name);
  if (found || !create) return found ?? null;
  const node = appendTo(doc, containers, { name });
  return isMap(node) ? node : null;
}
