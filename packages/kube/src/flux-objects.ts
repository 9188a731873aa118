import { assertKubeName } from "./names.ts";
import { type KubeObject, MANAGED_BY_JUANIE, type ObjectRef } from "./objects.ts";

export const GIT_REPOSITORY_API = "source.toolkit.fluxcd.io/v1";
export const KUSTOMIZATION_API = "kustomize.toolkit.fluxcd.io/v1";

export type GitCredential =
  | { type: "basic"; username: string; password: string }
  | { type: "ssh"; identity: string; knownHosts: string }
  | { type: "none" };

export interface GitOpsInput {
  /** Name of the GitRepository and the Kustomization (the Secret is `<name>-git-auth`). */
  name: string;
  /** Where the Flux objects live (usually flux-system). */
  fluxNamespace: string;
  /** Where the Kustomization applies the rendered manifests. */
  targetNamespace: string;
  url: string;
  branch: string;
  /** Path inside the repository, e.g. "k8s/overlays/production" (made "./k8s/overlays/production"). */
  path: string;
  /** Go durations, e.g. "1m", "5m0s". */
  interval: string;
  timeout: string;
  prune: boolean;
  wait: boolean;
  suspend: boolean;
  credential: GitCredential;
  labels?: Record<string, string>;
}

export interface GitOpsObjects {
  /** Null when the repository is public (credential none). */
  secret: KubeObject | null;
  gitRepository: KubeObject;
  kustomization: KubeObject;
}

export interface GitOpsRefs {
  secret: ObjectRef | null;
  gitRepository: ObjectRef;
  kustomization: ObjectRef;
}

/** A wrong GitOps input; `field` names the input field. Never contains a credential. */
export class GitOpsInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "GitOpsInputError";
    this.field = field;
  }
}

const DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

export function secretName(name: string): string {
  return `${name}-git-auth`;
}

/** The refs of the objects `buildGitOpsObjects` makes: to read, patch or delete them. */
export function gitOpsObjectRefs(input: Pick<GitOpsInput, "name" | "fluxNamespace" | "credential">): GitOpsRefs {
  const namespace = input.fluxNamespace;
  return {
    secret:
      input.credential.type === "none"
        ? null
        : { apiVersion: "v1", kind: "Secret", namespace, name: secretName(input.name) },
    gitRepository: { apiVersion: GIT_REPOSITORY_API, kind: "GitRepository", namespace, name: input.name },
    kustomization: { apiVersion: KUSTOMIZATION_API, kind: "Kustomization", namespace, name: input.name },
  };
}

function normalisePath(path: string): string {
  const p = path.trim().replace(/^\.\//, "").replace(/^\/+/, "").replace(/\/+$/, "");
  if (p.split("/").some((seg) => seg === "..")) {
    throw new GitOpsInputError("path", `path "${path}" must stay inside the repository (no "..")`);
  }
  return p === "" || p === "." ? "./" : `./${p}`;
}

function validate(input: GitOpsInput) {
  assertKubeName("name", input.name, "label");
  if (secretName(input.name).length > 253) throw new GitOpsInputError("name", "name is too long");
  assertKubeName("fluxNamespace", input.fluxNamespace, "label");
  assertKubeName("targetNamespace", input.targetNamespace, "label");
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new GitOpsInputError("url", `url "${input.url}" is not a URL (use https://… or ssh://…)`);
  }
  if (url.password) throw new GitOpsInputError("url", "url must not contain a password: use the credential instead");
  const kind = input.credential.type;
  if (kind === "ssh" && url.protocol !== "ssh:") {
    throw new GitOpsInputError(
      "url",
      `url must start with ssh:// for an SSH key (got ${url.protocol}//…); Flux does not accept the scp form git@host:path`,
    );
  }
  if (kind !== "ssh" && url.protocol !== "https:" && url.protocol !== "http:") {
    throw new GitOpsInputError("url", `url must start with https:// or http:// (got ${url.protocol}//…)`);
  }
  if (typeof input.branch !== "string" || input.branch.trim() === "" || /\s|\.\.|^-/.test(input.branch)) {
    throw new GitOpsInputError("branch", `branch "${input.branch}" is not a valid Git branch name`);
  }
  for (const f of ["interval", "timeout"] as const) {
    if (!DURATION.test(input[f] ?? "")) {
      throw new GitOpsInputError(f, `${f} "${input[f]}" must be a duration such as 30s, 1m or 1h30m`);
    }
  }
  const c = input.credential;
  if (c.type === "basic") {
    if (!c.username) throw new GitOpsInputError("credential.username", "credential.username is required");
    if (!c.password) throw new GitOpsInputError("credential.password", "credential.password is required");
  } else if (c.type === "ssh") {
    if (!c.identity?.includes("PRIVATE KEY")) {
      throw new GitOpsInputError("credential.identity", "credential.identity must be a PEM / OpenSSH private key");
    }
    if (!c.knownHosts?.trim()) {
      throw new GitOpsInputError(
        "credential.knownHosts",
        "credential.knownHosts is required (the Git host's public key, as ssh-keyscan prints it)",
      );
    }
  }
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/**
 * The Flux objects that make a cluster follow one path of one Git branch: a Secret with the Git
 * credential (Flux's keys: username/password, or identity/known_hosts), a GitRepository and a
 * Kustomization. Typed values, ready for server-side apply; everything labelled managed-by juanie.
 */
export function buildGitOpsObjects(input: GitOpsInput): GitOpsObjects {
  validate(input);
  const refs = gitOpsObjectRefs(input);
  const labels = { ...(input.labels ?? {}), ...MANAGED_BY_JUANIE };
  const c = input.credential;
  const secret: KubeObject | null =
    refs.secret === null
      ? null
      : {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: refs.secret.name, namespace: input.fluxNamespace, labels },
          type: "Opaque",
          data:
            c.type === "basic"
              ? { username: b64(c.username), password: b64(c.password) }
              : c.type === "ssh"
                ? { identity: b64(c.identity), known_hosts: b64(c.knownHosts) }
                : {},
        };
  const gitRepository: KubeObject = {
    apiVersion: GIT_REPOSITORY_API,
    kind: "GitRepository",
    metadata: { name: input.name, namespace: input.fluxNamespace, labels },
    spec: {
      url: input.url,
      ref: { branch: input.branch },
      interval: input.interval,
      timeout: input.timeout,
      ...(refs.secret ? { secretRef: { name: refs.secret.name } } : {}),
    },
  };
  const kustomization: KubeObject = {
    apiVersion: KUSTOMIZATION_API,
    kind: "Kustomization",
    metadata: { name: input.name, namespace: input.fluxNamespace, labels },
    spec: {
      sourceRef: { kind: "GitRepository", name: input.name, namespace: input.fluxNamespace },
      path: normalisePath(input.path),
      interval: input.interval,
      timeout: input.timeout,
      prune: input.prune,
      wait: input.wait,
      suspend: input.suspend,
      targetNamespace: input.targetNamespace,
    },
  };
  return { secret, gitRepository, kustomization };
}
