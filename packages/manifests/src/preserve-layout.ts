import { diffArrays } from "diff";

/**
 * The yaml library re-serializes a whole document, so an edit would also re-flow things nobody
 * touched (comment spacing, flow-collection padding, blank lines). Three texts fix that:
 * `original` (the file as the user wrote it), `rendered` (the original parsed and re-serialized) and
 * `edited` (the edited document serialized the same way). Lines the edit changed come from `edited`,
 * all others from `original` — a line-level three-way merge with the edit winning where both differ.
 */
export function preserveLayout(original: string, rendered: string, edited: string): string {
  const a = splitLines(original);
  const b = splitLines(rendered);
  const c = splitLines(edited);
  const layout = regionsOf(b, a);
  const edit = regionsOf(b, c);
  const clusters = mergeRegions([
    ...layout.regions.map((r) => ({ ...r, edited: false })),
    ...edit.regions.map((r) => ({ ...r, edited: true })),
  ]);
  const out: string[] = [];
  // A boundary with an insertion maps to two places in the other text: before and after the inserted
  // lines. A cluster starts before its insertions and ends after them.
  const before = (map: BoundaryMap, boundary: number) => checked(map.get(boundary)?.before, boundary);
  const after = (map: BoundaryMap, boundary: number) => checked(map.get(boundary)?.after, boundary);
  let pos = 0;
  for (const cluster of clusters) {
    out.push(...a.slice(after(layout.map, pos), before(layout.map, cluster.from)));
    if (cluster.edited) {
      const written = a.slice(before(layout.map, cluster.from), after(layout.map, cluster.to));
      const replacement = c.slice(before(edit.map, cluster.from), after(edit.map, cluster.to));
      out.push(
        ...(written.length === replacement.length
          ? replacement.map((l, i) => keepCommentSpacing(written[i] ?? "", l))
          : replacement),
      );
    } else out.push(...a.slice(before(layout.map, cluster.from), after(layout.map, cluster.to)));
    pos = cluster.to;
  }
  out.push(...a.slice(after(layout.map, pos)));
  return out.join("");
}

/**
 * `image: app:1.1 # pinned` where the user wrote `image: app:1.0   # pinned`: an edited line keeps the
 * spacing before its unchanged trailing comment.
 */
function keepCommentSpacing(written: string, edited: string): string {
  const w = /^(.*\S)(\s+)(#[^\n]*)(\n?)$/.exec(written);
  const e = /^(.*\S) (#[^\n]*)(\n?)$/.exec(edited);
  // A `#` inside a quoted value is not a comment: leave lines with quotes after the `#` alone.
  if (!w || !e || w[3] !== e[2] || w[4] !== e[3] || /["']/.test(e[2] ?? "")) return edited;
  return `${e[1]}${w[2]}${e[2]}${e[3]}`;
}

function checked(v: number | undefined, boundary: number): number {
  if (v === undefined) throw new Error(`preserveLayout: unmapped boundary ${boundary}`);
  return v;
}

/** Lines with their `\n` kept, so that a last line without one stays distinct. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

interface Region {
  /** Replaced range of the base text, as line boundaries [from, to]. */
  from: number;
  to: number;
}

type BoundaryMap = Map<number, { before: number; after: number }>;

/** The changed regions from `base` to `other`, and where each region's edge lands in `other`. */
function regionsOf(base: string[], other: string[]): { regions: Region[]; map: BoundaryMap } {
  const map: BoundaryMap = new Map();
  const set = (b: number, o: number) => {
    const known = map.get(b);
    if (known) known.after = o;
    else map.set(b, { before: o, after: o });
  };
  set(0, 0);
  const regions: Region[] = [];
  let bPos = 0;
  let oPos = 0;
  let open: Region | null = null;
  for (const change of diffArrays(base, other)) {
    if (!change.added && !change.removed) {
      if (open) {
        regions.push(open);
        open = null;
      }
      for (let k = 0; k <= change.count; k++) set(bPos + k, oPos + k);
      bPos += change.count;
      oPos += change.count;
      continue;
    }
    open ??= { from: bPos, to: bPos };
    if (change.removed) bPos += change.count;
    else oPos += change.count;
    open.to = bPos;
  }
  if (open) regions.push(open);
  set(bPos, oPos);
  return { regions, map };
}

/** Overlapping regions become one cluster; a cluster is edited if any of its regions is. */
function mergeRegions(regions: (Region & { edited: boolean })[]): (Region & { edited: boolean })[] {
  const sorted = [...regions].sort((x, y) => x.from - y.from || x.to - y.to);
  const clusters: (Region & { edited: boolean })[] = [];
  for (const r of sorted) {
    const last = clusters[clusters.length - 1];
    // Regions that share lines are one cluster; so are two insertions at the same place (their order
    // is unknown). A region that merely starts where another ends is kept apart.
    const insertionsAtSamePlace = last !== undefined && r.from === r.to && last.from === last.to && r.from === last.to;
    if (last && (r.from < last.to || insertionsAtSamePlace)) {
      last.to = Math.max(last.to, r.to);
      last.edited ||= r.edited;
    } else {
      clusters.push({ ...r });
    }
  }
  return clusters;
}
