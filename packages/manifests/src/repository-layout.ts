import { type Document, isMap } from "yaml";
import { isDnsLabel } from "./deploy-spec.ts";
import { ManifestError } from "./errors.ts";
import { parseImageReference } from "./image-reference.ts";
import { isSafeRepoPath, joinRepoPath, normalizeRepoPath } from "./paths.ts";
import { newDocument } from "./yaml-nodes.ts";

export interface RepositoryLayoutOptions {
  appName: string;
  image: string;
  port: number;
  /** Namespace of every environment that does not name its own. */
  namespace?: string;
  environments: { name: string; replicas: number; namespace?: string }[];
  /** Directory holding base/ and overlays/; default `k8s`. */
  root?: string;
}

/**
 * A new repository's layout: `k8s/base` (Deployment, Service, kustomization) and one overlay per
 * environment in `k8s/overlays/<name>` that pins the image tag and replica count. Path → content.
 */
export function newRepositoryLayout(opts: RepositoryLayoutOptions): Record<string, string> {
  const { appName, image, port } = opts;
  const fail = (field: string, rule: string): never => {
    throw new ManifestError(`${field}: ${rule}`, { field });
  };
  if (!isDnsLabel(appName)) {
    fail("appName", "must be a DNS label: lowercase letters, digits and '-', at most 63 characters");
  }
  const ref = parseImageReference(image);
  if (!ref) return fail("image", "must be a valid image reference like registry.example.com/team/app:1.2.3");
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail("port", "must be an integer from 1 to 65535");
  if (opts.namespace !== undefined && !isDnsLabel(opts.namespace)) fail("namespace", "must be a DNS label");
  if (opts.environments.length === 0) fail("environments", "must name at least one environment");
  const seen = new Set<string>();
  opts.environments.forEach((env, i) => {
    if (!isDnsLabel(env.name)) fail(`environments.${i}.name`, "must be a DNS label");
    if (seen.has(env.name)) fail(`environments.${i}.name`, `must be unique ("${env.name}" appears twice)`);
    seen.add(env.name);
    if (!Number.isInteger(env.replicas) || env.replicas < 0 || env.replicas > 1000) {
      fail(`environments.${i}.replicas`, "must be an integer from 0 to 1000");
    }
    if (env.namespace !== undefined && !isDnsLabel(env.namespace))
      fail(`environments.${i}.namespace`, "must be a DNS label");
  });
  const root = opts.root ?? "k8s";
  if (!isSafeRepoPath(root)) fail("root", "must be a relative path inside the repository");
  const base = joinRepoPath(normalizeRepoPath(root), "base");

  const labels = { "app.kubernetes.io/name": appName };
  const files: Record<string, string> = {};
  files[`${base}/deployment.yaml`] = render(
    newDocument({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: appName, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: appName, image, ports: [{ name: "http", containerPort: port }] }],
          },
        },
      },
    }),
  );
  files[`${base}/service.yaml`] = render(
    newDocument({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: appName, labels },
      spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    }),
  );
  files[`${base}/kustomization.yaml`] = render(
    newDocument({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["deployment.yaml", "service.yaml"],
    }),
    "Shared by every environment. Changes for one environment belong in its overlay (../overlays/<name>).",
  );

  const imageEntry: Record<string, string> = { name: ref.name };
  if (ref.tag !== undefined || ref.digest === undefined) imageEntry.newTag = ref.tag ?? "latest";
  if (ref.digest !== undefined) imageEntry.digest = ref.digest;
  for (const env of opts.environments) {
    const namespace = env.namespace ?? opts.namespace;
    files[joinRepoPath(normalizeRepoPath(root), `overlays/${env.name}/kustomization.yaml`)] = render(
      newDocument({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        ...(namespace !== undefined ? { namespace } : {}),
        resources: ["../../base"],
        images: [imageEntry],
        replicas: [{ name: appName, count: env.replicas }],
      }),
      `The ${env.name} environment. Juanie's deploy form edits this directory only: the image in images:,\nthe replica count in replicas:, other settings in deployment-patch.yaml (created when first needed).`,
    );
  }
  return files;
}

function render(doc: Document, comment?: string): string {
  if (comment !== undefined) doc.commentBefore = comment.replace(/^/gm, " ");
  if (!isMap(doc.contents)) throw new Error("newRepositoryLayout: a manifest must be a map");
  return doc.toString({ lineWidth: 0 });
}
