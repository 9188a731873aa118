import { diffArrays } from "diff";
import { type Document, parseAllDocuments, type ToStringOptions } from "yaml";
import { ManifestError } from "./errors.ts";
import { preserveLayout, splitLines } from "./preserve-layout.ts";
import type { RepoFiles } from "./repo-files.ts";

/** One YAML file of the working set: its documents (edited in place) and how to write it back. */
export interface YamlFile {
  readonly path: string;
  /** The file as read, or `null` for a file this plan creates. */
  readonly original: string | null;
  readonly docs: Document[];
  /** Serializer options that reproduce the file's own style (sequence indentation, indent width). */
  readonly style: ToStringOptions;
}

/** Never fold long lines: a folded `command:` or annotation would be a change nobody asked for. */
const BASE_STYLE: ToStringOptions = { lineWidth: 0 };

/**
 * The YAML files a plan reads and edits, parsed once. Edits happen on the Document nodes; `changes()`
 * serializes the touched files, keeping the untouched lines of each file byte for byte.
 */
export class YamlWorkspace {
  private readonly loaded = new Map<string, YamlFile | null>();
  private readonly dirty = new Set<string>();

  constructor(readonly files: RepoFiles) {}

  /** The parsed file, or `null` when it does not exist; a ManifestError naming file and line if it does not parse. */
  load(path: string): YamlFile | null {
    if (this.loaded.has(path)) return this.loaded.get(path) ?? null;
    const text = this.files.read(path);
    const file = text === null ? null : parseYamlFile(path, text);
    this.loaded.set(path, file);
    return file;
  }

  exists(path: string): boolean {
    return this.loaded.get(path) != null || this.files.read(path) !== null;
  }

  /** Adds a file this plan creates, written in `style`. */
  create(path: string, docs: Document[], style: ToStringOptions): YamlFile {
    const file: YamlFile = { path, original: null, docs, style: { ...BASE_STYLE, ...style } };
    this.loaded.set(path, file);
    this.dirty.add(path);
    return file;
  }

  touch(path: string): void {
    this.dirty.add(path);
  }

  /** New full content of every touched file whose text actually changed. */
  changes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const path of [...this.dirty].sort()) {
      const file = this.loaded.get(path);
      if (!file) continue;
      const text = serializeYamlFile(file);
      if (text !== file.original) out[path] = text;
    }
    return out;
  }
}

export function parseYamlFile(path: string, text: string): YamlFile {
  const docs = parseAllDocuments(text, { prettyErrors: true, merge: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      const reason = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
      throw new ManifestError(`${path}: YAML syntax error${where}: ${reason}`, {
        file: path,
        ...(pos ? { line: pos.line } : {}),
      });
    }
  }
  return { path, original: text, docs: list, style: detectStyle(text, list) };
}

const CANDIDATE_STYLES: ToStringOptions[] = [2, 4].flatMap((indent) =>
  [true, false].flatMap((indentSeq) =>
    [true, false].map((flowCollectionPadding) => ({ ...BASE_STYLE, indent, indentSeq, flowCollectionPadding })),
  ),
);

/** The serializer options under which the file re-renders closest to itself. */
function detectStyle(text: string, docs: Document[]): ToStringOptions {
  const original = splitLines(normalizeNewlines(text));
  const originalSet = new Set(original);
  let best: ToStringOptions = { ...BASE_STYLE };
  let bestScore = -1;
  for (const style of CANDIDATE_STYLES) {
    const lines = splitLines(renderDocs(docs, style));
    const score = lines.filter((l) => originalSet.has(l)).length;
    if (score > bestScore) {
      best = style;
      bestScore = score;
    }
  }
  return best;
}

function renderDocs(docs: readonly Document[], style: ToStringOptions): string {
  return docs.map((d) => d.toString(style)).join("");
}

function normalizeNewlines(text: string): string {
  return text.replace(/\r\n/g, "\n");
}

/**
 * The file's new text. For an existing file the edit is merged into the original text line by line
 * (see preserveLayout), and the merge is kept only if it means exactly what the edited documents mean.
 */
export function serializeYamlFile(file: YamlFile): string {
  const edited = renderDocs(file.docs, file.style);
  if (file.original === null) return edited;
  const original = normalizeNewlines(file.original);
  const reparsed = parseAllDocuments(original);
  const rendered = renderDocs(Array.isArray(reparsed) ? reparsed : [], file.style);
  let text = edited;
  try {
    const merged = preserveLayout(original, rendered, edited);
    if (sameMeaning(merged, edited)) text = merged;
  } catch {
    // The merge is a courtesy to the reader of the diff; the serializer's output is always correct.
  }
  return file.original.includes("\r\n") ? restoreLineEndings(file.original, text) : text;
}

/**
 * `edited` (LF only) with the line endings of `original`: a line kept from the original keeps its own
 * ending (a file may mix CRLF and LF), a new or changed line takes the ending of the line it replaces
 * or follows.
 */
function restoreLineEndings(original: string, edited: string): string {
  const raw = splitLines(original);
  const ending = raw.map((l) => (l.endsWith("\r\n") ? "\r\n" : l.endsWith("\n") ? "\n" : ""));
  const plain = raw.map((l) => l.replace(/\r?\n$/, "\n"));
  const out: string[] = [];
  let i = 0;
  let last = ending.find((e) => e !== "") ?? "\n";
  const withEnding = (line: string, e: string) => (line.endsWith("\n") ? `${line.slice(0, -1)}${e}` : line);
  for (const change of diffArrays(plain, splitLines(edited))) {
    if (change.removed) {
      i += change.count;
      continue;
    }
    for (const line of change.value) {
      if (!change.added) {
        last = ending[i] || last;
        out.push(withEnding(line, ending[i] || last));
        i++;
      } else out.push(withEnding(line, ending[i] || last));
    }
  }
  return out.join("");
}

function sameMeaning(a: string, b: string): boolean {
  const da = parseAllDocuments(a);
  const db = parseAllDocuments(b);
  const la = Array.isArray(da) ? da : [];
  const lb = Array.isArray(db) ? db : [];
  if (la.length !== lb.length) return false;
  return la.every((d, i) => {
    const other = lb[i];
    return (
      other !== undefined &&
      d.errors.length === 0 &&
      JSON.stringify(d.toJS()) === JSON.stringify(other.toJS()) &&
      d.commentBefore === other.commentBefore &&
      d.comment === other.comment
    );
  });
}
