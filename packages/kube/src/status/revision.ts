/**
 * A Flux revision string taken apart. Flux writes revisions as `<ref>@<algo>:<hex>`
 * (`main@sha1:…`, `refs/heads/main@sha1:…`, `v1.2.0@sha1:…`, OCI `latest@sha256:…`, Helm `6.0.1@sha256:…`),
 * a bare `<algo>:<hex>` (detached commit, Bucket, HelmRepository index), a plain chart version (`6.0.1`),
 * and before Flux 2.0 `<ref>/<sha>` (`main/1a2b…`).
 */
export interface ParsedRevision {
  /** Branch, tag or chart version; `refs/heads/` is dropped so `main` and `refs/heads/main` compare equal. */
  ref: string | null;
  /** A Git commit id (lowercase hex), when the revision names one. */
  sha: string | null;
  /** `<algo>:<hex>` of a content digest (OCI artifact, Helm chart, Bucket), when the revision names one. */
  digest?: string;
}

export interface ParseRevisionOptions {
  /**
   * The kind of the source that produced the revision. A `sha256` revision of a GitRepository is a commit
   * id (SHA-256 Git repositories); anywhere else it is a content digest.
   */
  sourceKind?: string;
}

const DIGEST = /^(sha1|sha256|sha384|sha512|blake3):([0-9a-f]+)$/i;
const LEGACY = /^(.+)\/([0-9a-f]{40}|[0-9a-f]{64})$/i;
const BARE_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/i;

const cleanRef = (ref: string): string | null => {
  const r = ref.replace(/^refs\/heads\//, "");
  return r === "" ? null : r;
};

export function parseRevision(rev: string | null | undefined, opts: ParseRevisionOptions = {}): ParsedRevision {
  const text = (rev ?? "").trim();
  if (text === "") return { ref: null, sha: null };
  // `<ref>@<algo>:<hex>` — split at the last `@` so refs containing `@` survive.
  const at = text.lastIndexOf("@");
  const head = at >= 0 ? text.slice(0, at) : null;
  const tail = at >= 0 ? text.slice(at + 1) : text;
  const digest = DIGEST.exec(tail);
  if (digest) {
    const algo = (digest[1] as string).toLowerCase();
    const hex = (digest[2] as string).toLowerCase();
    const ref = head === null ? null : cleanRef(head);
    if (algo === "sha1") return { ref, sha: hex };
    const isGit = opts.sourceKind === "GitRepository";
    return isGit ? { ref, sha: hex } : { ref, sha: null, digest: `${algo}:${hex}` };
  }
  const legacy = LEGACY.exec(text);
  if (legacy) return { ref: cleanRef(legacy[1] as string), sha: (legacy[2] as string).toLowerCase() };
  if (BARE_SHA.test(text)) return { ref: null, sha: text.toLowerCase() };
  // A chart version (`6.0.1`, `6.0.1+4c3b…`) or any other opaque revision.
  return { ref: text, sha: null };
}

/** Whether a revision names the commit `sha` (full or abbreviated, at least 7 hex digits). */
export function revisionHasSha(rev: string | null | undefined, sha: string, opts: ParseRevisionOptions = {}): boolean {
  const parsed = parseRevision(rev, opts);
  const own = parsed.sha ?? (parsed.digest ? (parsed.digest.split(":")[1] ?? null) : null);
  return own !== null && sameSha(own, sha);
}

/** Commit ids compare equal when one is a prefix (≥ 7 hex digits) of the other, case-insensitively. */
export function sameSha(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y) return true;
  if (x.length < 7 || y.length < 7) return false;
  return x.length < y.length ? y.startsWith(x) : x.startsWith(y);
}
