import { parse } from "yaml";

/** The most a pasted kubeconfig may weigh: real ones are a few kilobytes. */
export const KUBECONFIG_MAX_BYTES = 1024 * 1024;

export type KubeAuthType = "token" | "client-certificate" | "basic" | "exec" | "auth-provider" | "none";

export interface KubeconfigSummary {
  context: string;
  cluster: string;
  server: string;
  namespace: string | null;
  user: string;
  authType: KubeAuthType;
  insecureSkipTlsVerify: boolean;
}

export interface ParseKubeconfigOptions {
  /** The context to use; the kubeconfig's `current-context` when omitted. */
  context?: string;
  /** Exec credential plugins run a program on the platform's host: only an administrator may allow them. */
  allowExec: boolean;
}

/** A kubeconfig the platform refuses; `field` is the form field to show the message on. */
export class KubeconfigError extends Error {
  readonly field: "kubeconfig" | "context";
  constructor(field: "kubeconfig" | "context", message: string) {
    super(message);
    this.name = "KubeconfigError";
    this.field = field;
  }
}

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

/** Named entries (`clusters`, `users`, `contexts`) as a map name → inner object. */
function namedList(doc: Rec, key: string, inner: string): Map<string, Rec> {
  const out = new Map<string, Rec>();
  const list = doc[key];
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new KubeconfigError("kubeconfig", `the kubeconfig's "${key}" must be a list`);
  list.forEach((entry, i) => {
    if (!isRec(entry) || typeof entry.name !== "string" || entry.name === "") {
      throw new KubeconfigError("kubeconfig", `the kubeconfig's ${key}[${i}] must have a name`);
    }
    out.set(entry.name, isRec(entry[inner]) ? (entry[inner] as Rec) : {});
  });
  return out;
}

const FILE_FIELDS_CLUSTER = ["certificate-authority"] as const;
const FILE_FIELDS_USER = ["client-certificate", "client-key", "tokenFile"] as const;

/**
 * Reads a pasted kubeconfig and says which cluster, user and authentication it would use — without
 * contacting the cluster and without reading any file of the platform's host. Refuses what the
 * platform cannot or must not do: file references, auth providers, exec plugins (unless allowed),
 * plain HTTP servers.
 */
export function parseKubeconfig(text: string, opts: ParseKubeconfigOptions): KubeconfigSummary {
  if (typeof text !== "string" || text.trim() === "") {
    throw new KubeconfigError("kubeconfig", "the kubeconfig is empty");
  }
  if (Buffer.byteLength(text, "utf8") > KUBECONFIG_MAX_BYTES) {
    throw new KubeconfigError("kubeconfig", "the kubeconfig is larger than 1 MB");
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    const line = (e as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new KubeconfigError("kubeconfig", `the kubeconfig is not valid YAML${line ? ` (line ${line})` : ""}`);
  }
  if (!isRec(doc) || (doc.kind !== undefined && doc.kind !== "Config")) {
    throw new KubeconfigError("kubeconfig", 'the kubeconfig must be a YAML document of kind "Config"');
  }
  if (doc.kind === undefined && doc.clusters === undefined && doc.contexts === undefined) {
    throw new KubeconfigError("kubeconfig", 'the kubeconfig must be a YAML document of kind "Config"');
  }
  const contexts = namedList(doc, "contexts", "context");
  const clusters = namedList(doc, "clusters", "cluster");
  const users = namedList(doc, "users", "user");
  if (contexts.size === 0) throw new KubeconfigError("kubeconfig", "the kubeconfig has no contexts");

  const available = [...contexts.keys()].join(", ");
  let contextName = opts.context;
  if (contextName === undefined || contextName === "") {
    const current = doc["current-context"];
    if (typeof current === "string" && current !== "") contextName = current;
    else if (contexts.size === 1) contextName = [...contexts.keys()][0]!;
    else {
      throw new KubeconfigError(
        "context",
        `the kubeconfig has no current-context: choose one of its contexts (${available})`,
      );
    }
  }
  const context = contexts.get(contextName);
  if (!context) {
    throw new KubeconfigError("context", `the kubeconfig has no context "${contextName}" (available: ${available})`);
  }
  const clusterName = typeof context.cluster === "string" ? context.cluster : "";
  const cluster = clusters.get(clusterName);
  if (!cluster) {
    throw new KubeconfigError(
      "kubeconfig",
      `context "${contextName}" refers to a cluster "${clusterName}" that the kubeconfig does not define`,
    );
  }
  const userName = typeof context.user === "string" ? context.user : "";
  const user = userName === "" ? {} : users.get(userName);
  if (!user) {
    throw new KubeconfigError(
      "kubeconfig",
      `context "${contextName}" refers to a user "${userName}" that the kubeconfig does not define`,
    );
  }

  for (const f of FILE_FIELDS_CLUSTER) {
    if (cluster[f] !== undefined && cluster[f] !== "") {
      throw new KubeconfigError(
        "kubeconfig",
        `cluster "${clusterName}" refers to a file (${f}); paste the kubeconfig with inline data (${f}-data) — the platform never reads files of its host for a user`,
      );
    }
  }
  for (const f of FILE_FIELDS_USER) {
    if (user[f] !== undefined && user[f] !== "") {
      const inline = f === "tokenFile" ? "token" : `${f}-data`;
      throw new KubeconfigError(
        "kubeconfig",
        `user "${userName}" refers to a file (${f}); paste the kubeconfig with inline data (${inline}) — the platform never reads files of its host for a user`,
      );
    }
  }

  const server = cluster.server;
  if (typeof server !== "string" || server === "") {
    throw new KubeconfigError("kubeconfig", `cluster "${clusterName}" has no server address`);
  }
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError("kubeconfig", `cluster "${clusterName}" has a server address that is not a URL`);
  }
  if (url.protocol === "http:") {
    throw new KubeconfigError(
      "kubeconfig",
      `cluster "${clusterName}" uses plain http (${url.origin}): the platform sends credentials to a cluster only over https`,
    );
  }
  if (url.protocol !== "https:") {
    throw new KubeconfigError("kubeconfig", `cluster "${clusterName}" server must be an https:// URL`);
  }

  let authType: KubeAuthType = "none";
  if (user["auth-provider"] !== undefined) {
    const name = isRec(user["auth-provider"]) ? user["auth-provider"].name : undefined;
    throw new KubeconfigError(
      "kubeconfig",
      `user "${userName}" uses an auth-provider${typeof name === "string" ? ` (${name})` : ""}, which Kubernetes removed; use a token or client certificate`,
    );
  }
  if (user.exec !== undefined) {
    const command = isRec(user.exec) && typeof user.exec.command === "string" ? user.exec.command : "unknown";
    if (!opts.allowExec) {
      throw new KubeconfigError(
        "kubeconfig",
        `user "${userName}" uses an exec credential plugin (${command}), which runs a program on the platform's host; an administrator must allow exec plugins`,
      );
    }
    authType = "exec";
  } else if (typeof user.token === "string" && user.token !== "") {
    authType = "token";
  } else if (user["client-certificate-data"] !== undefined || user["client-key-data"] !== undefined) {
    if (!user["client-certificate-data"] || !user["client-key-data"]) {
      throw new KubeconfigError(
        "kubeconfig",
        `user "${userName}" needs both client-certificate-data and client-key-data`,
      );
    }
    authType = "client-certificate";
  } else if (typeof user.username === "string" && user.username !== "") {
    authType = "basic";
  }

  return {
    context: contextName,
    cluster: clusterName,
    server,
    namespace: typeof context.namespace === "string" && context.namespace !== "" ? context.namespace : null,
    user: userName,
    authType,
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
  };
}
