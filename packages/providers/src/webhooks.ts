import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { booleanAt, isObject, type JsonObject, numberAt, objectAt, stringAt, stringsAt } from "./json.ts";
import type { ProviderKind } from "./types.ts";

// Verification and parsing work on the raw body bytes exactly as received. Limiting the body size is the
// caller's job (the HTTP server's body limit, before these functions see anything): GitHub caps payloads at
// 25 MB, GitLab's push payloads hold at most 20 commits.

/**
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time. False for a
 * missing or malformed header, another algorithm (`sha1=`), or an empty secret.
 */
export function verifyGitHubSignature(rawBody: Buffer, signatureHeader: string | undefined, secret: string): boolean {
  if (!secret || typeof signatureHeader !== "string") return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(signatureHeader.trim());
  if (!m?.[1]) return false;
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(m[1], "hex"));
}

/** `X-Gitlab-Token` equals the secret, compared in constant time (hashed first, so the length leaks nothing). */
export function verifyGitLabToken(tokenHeader: string | undefined, secret: string): boolean {
  if (!secret || typeof tokenHeader !== "string" || tokenHeader === "") return false;
  const a = createHash("sha256").update(tokenHeader, "utf8").digest();
  const b = createHash("sha256").update(secret, "utf8").digest();
  return timingSafeEqual(a, b);
}

export interface PushCommit {
  sha: string;
  message: string;
  authorName: string;
  authorEmail: string;
  timestamp: string;
  url: string | null;
  added: string[];
  modified: string[];
  removed: string[];
}

export interface PushEvent {
  provider: ProviderKind;
  /** GitHub `X-GitHub-Delivery`; GitLab `Idempotency-Key` (same on retries, GitLab ≥ 17.4), else `X-Gitlab-Event-UUID`. */
  deliveryId: string | null;
  branch: string;
  before: string;
  after: string;
  repository: { fullName: string; cloneUrls: string[]; webUrl: string | null };
  pusher: string | null;
  /** As sent: GitHub lists up to 2048, GitLab at most 20 (see `totalCommits`). */
  commits: PushCommit[];
  /** The commit the branch now points at, when the payload describes it (null on deletion). */
  headCommit: PushCommit | null;
  /** How many commits the push brought; more than `commits.length` when the host truncated the list. */
  totalCommits: number;
  /** GitHub says so; GitLab's push hook does not tell, so always false there. */
  forced: boolean;
  deleted: boolean;
}

export type WebhookParse =
  | { kind: "push"; event: PushEvent }
  | { kind: "ping" }
  | { kind: "ignored"; reason: string }
  | { kind: "invalid"; reason: string };

type Headers = Record<string, string | undefined>;

/**
 * Turns a verified delivery into a push event. Headers are expected lower-cased (Node's are).
 * GitHub: `x-github-event` push | ping, `x-github-delivery`; JSON or form-encoded (`payload=`) bodies.
 * GitLab: `x-gitlab-event` "Push Hook" (and "System Hook" carrying a push).
 * Malformed JSON or missing fields → invalid with the reason; tag pushes and other events → ignored.
 * Call it only after the signature/token check.
 */
export function parseWebhook(provider: ProviderKind, headers: Headers, rawBody: Buffer): WebhookParse {
  const h = lowerCaseKeys(headers);
  if (provider === "github") return parseGitHub(h, rawBody);
  if (provider === "gitlab") return parseGitLab(h, rawBody);
  return { kind: "invalid", reason: "unknown provider" };
}

function parseGitHub(h: Headers, rawBody: Buffer): WebhookParse {
  const event = h["x-github-event"];
  if (!event) return { kind: "invalid", reason: "missing X-GitHub-Event header" };
  if (event !== "push" && event !== "ping") return { kind: "ignored", reason: `GitHub event "${clip(event)}"` };
  const body = readBody(rawBody, h["content-type"]);
  if (!body.ok) return { kind: "invalid", reason: body.reason };
  if (event === "ping") return { kind: "ping" };
  const p = body.value;

  const ref = refOf(p);
  if (ref.kind !== "branch") return ref.result;
  const shas = shasOf(p);
  if (typeof shas === "string") return { kind: "invalid", reason: shas };
  const repo = objectAt(p, "repository");
  const fullName = stringAt(repo, "full_name");
  if (!fullName) return { kind: "invalid", reason: "push payload has no repository.full_name" };
  const commits = commitsOf(p);
  if (typeof commits === "string") return { kind: "invalid", reason: commits };
  let headCommit: PushCommit | null = null;
  const head = p.head_commit;
  if (isObject(head)) {
    const parsed = commitOf(head, "head_commit");
    if (typeof parsed === "string") return { kind: "invalid", reason: parsed };
    headCommit = parsed;
  }
  const deleted = booleanAt(p, "deleted") ?? isZeroSha(shas.after);
  return {
    kind: "push",
    event: {
      provider: "github",
      deliveryId: h["x-github-delivery"] || null,
      branch: ref.branch,
      before: shas.before,
      after: shas.after,
      repository: {
        fullName,
        cloneUrls: unique([stringAt(repo, "clone_url"), stringAt(repo, "ssh_url"), stringAt(repo, "git_url")]),
        webUrl: stringAt(repo, "html_url") ?? null,
      },
      pusher: stringAt(objectAt(p, "pusher"), "name") ?? stringAt(objectAt(p, "sender"), "login") ?? null,
      commits,
      headCommit: deleted ? null : headCommit,
      totalCommits: commits.length,
      forced: booleanAt(p, "forced") ?? false,
      deleted,
    },
  };
}

function parseGitLab(h: Headers, rawBody: Buffer): WebhookParse {
  const event = h["x-gitlab-event"];
  if (!event) return { kind: "invalid", reason: "missing X-Gitlab-Event header" };
  if (event === "Tag Push Hook") return { kind: "ignored", reason: "tag push" };
  if (event !== "Push Hook" && event !== "System Hook")
    return { kind: "ignored", reason: `GitLab event "${clip(event)}"` };
  const body = readBody(rawBody, h["content-type"]);
  if (!body.ok) return { kind: "invalid", reason: body.reason };
  const p = body.value;
  const objectKind = stringAt(p, "object_kind") ?? stringAt(p, "event_name");
  if (objectKind === "tag_push") return { kind: "ignored", reason: "tag push" };
  if (objectKind !== undefined && objectKind !== "push") {
    return { kind: "ignored", reason: `GitLab ${event} "${clip(objectKind)}"` };
  }
  if (objectKind === undefined && event === "System Hook") {
    return { kind: "ignored", reason: "GitLab System Hook without object_kind" };
  }

  const ref = refOf(p);
  if (ref.kind !== "branch") return ref.result;
  const shas = shasOf(p);
  if (typeof shas === "string") return { kind: "invalid", reason: shas };
  const project = objectAt(p, "project");
  const legacyRepo = objectAt(p, "repository");
  const fullName = stringAt(project, "path_with_namespace");
  if (!fullName) return { kind: "invalid", reason: "push payload has no project.path_with_namespace" };
  const commits = commitsOf(p);
  if (typeof commits === "string") return { kind: "invalid", reason: commits };
  const deleted = isZeroSha(shas.after);
  const headSha = stringAt(p, "checkout_sha") ?? shas.after;
  return {
    kind: "push",
    event: {
      provider: "gitlab",
      deliveryId: h["idempotency-key"] || h["x-gitlab-event-uuid"] || null,
      branch: ref.branch,
      before: shas.before,
      after: shas.after,
      repository: {
        fullName,
        cloneUrls: unique([
          stringAt(project, "git_http_url") ?? stringAt(legacyRepo, "git_http_url"),
          stringAt(project, "git_ssh_url") ?? stringAt(legacyRepo, "git_ssh_url"),
        ]),
        webUrl: stringAt(project, "web_url") ?? stringAt(legacyRepo, "homepage") ?? null,
      },
      pusher: stringAt(p, "user_username") ?? stringAt(p, "user_name") ?? null,
      commits,
      headCommit: deleted ? null : (commits.find((c) => c.sha === headSha) ?? null),
      totalCommits: numberAt(p, "total_commits_count") ?? commits.length,
      forced: false,
      deleted,
    },
  };
}

type RefResult = { kind: "branch"; branch: string } | { kind: "other"; result: WebhookParse };

function refOf(p: JsonObject): RefResult {
  const ref = stringAt(p, "ref");
  if (!ref) return { kind: "other", result: { kind: "invalid", reason: "push payload has no ref" } };
  if (ref.startsWith("refs/tags/")) return { kind: "other", result: { kind: "ignored", reason: "tag push" } };
  if (!ref.startsWith("refs/heads/") || ref.length === "refs/heads/".length) {
    return { kind: "other", result: { kind: "ignored", reason: `not a branch: ${clip(ref)}` } };
  }
  return { kind: "branch", branch: ref.slice("refs/heads/".length) };
}

const shaPattern = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function shasOf(p: JsonObject): { before: string; after: string } | string {
  const before = stringAt(p, "before");
  const after = stringAt(p, "after");
  if (!before || !shaPattern.test(before)) return "push payload has no valid before SHA";
  if (!after || !shaPattern.test(after)) return "push payload has no valid after SHA";
  return { before, after };
}

function isZeroSha(sha: string): boolean {
  return /^0+$/.test(sha);
}

function commitsOf(p: JsonObject): PushCommit[] | string {
  const list = p.commits;
  // GitLab sent `commits: null` in some versions for pushes without new commits.
  if (list === null) return [];
  if (!Array.isArray(list)) return "push payload has no commits list";
  const out: PushCommit[] = [];
  for (const [i, item] of list.entries()) {
    if (!isObject(item)) return `commits[${i}] is not an object`;
    const c = commitOf(item, `commits[${i}]`);
    if (typeof c === "string") return c;
    out.push(c);
  }
  return out;
}

function commitOf(c: JsonObject, where: string): PushCommit | string {
  const sha = stringAt(c, "id");
  if (!sha || !shaPattern.test(sha)) return `${where} has no valid id`;
  const message = stringAt(c, "message");
  if (message === undefined) return `${where} has no message`;
  const author = objectAt(c, "author");
  const added = stringsAt(c, "added");
  const modified = stringsAt(c, "modified");
  const removed = stringsAt(c, "removed");
  if (!added || !modified || !removed) return `${where} has a malformed file list`;
  return {
    sha,
    message,
    authorName: stringAt(author, "name") ?? "",
    authorEmail: stringAt(author, "email") ?? "",
    timestamp: stringAt(c, "timestamp") ?? "",
    url: stringAt(c, "url") ?? null,
    added,
    modified,
    removed,
  };
}

type BodyResult = { ok: true; value: JsonObject } | { ok: false; reason: string };

function readBody(rawBody: Buffer, contentType: string | undefined): BodyResult {
  let text = rawBody.toString("utf8");
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    const payload = new URLSearchParams(text).get("payload");
    if (payload === null) return { ok: false, reason: "form body has no payload field" };
    text = payload;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "body is not valid JSON" };
  }
  if (!isObject(value)) return { ok: false, reason: "body is not a JSON object" };
  return { ok: true, value };
}

function lowerCaseKeys(headers: Headers): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === "string" && v !== ""))];
}

/** Header values and refs are attacker-controlled until verified: keep them short in reasons. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
