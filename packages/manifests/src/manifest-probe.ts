import { parseAllDocuments } from "yaml";

/** The names kustomize accepts for a directory's kustomization, in the order it looks for them. */
export const kustomizationFileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

/** Whether a file name is one kustomize reads as a kustomization. */
export function isKustomizationFile(file: string): boolean {
  const name = file.slice(file.lastIndexOf("/") + 1);
  return (kustomizationFileNames as readonly string[]).includes(name);
}

/** Files Flux takes as manifests when a directory has no kustomization: `.yaml` and `.yml`. */
export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/**
 * Whether YAML text holds at least one Kubernetes object: a document that is a mapping with a
 * non-empty string `apiVersion` and `kind`. Text that does not parse holds none.
 */
export function holdsKubernetesObject(text: string): boolean {
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return false;
  }
  if (!Array.isArray(docs)) return false;
  for (const doc of docs) {
    if (doc.errors.length) continue;
    const value: unknown = doc.toJS();
    if (value === null || typeof value !== "object" || Array.isArray(value)) continue;
    const { apiVersion, kind } = value as Record<string, unknown>;
    if (typeof apiVersion === "string" && apiVersion.trim() && typeof kind === "string" && kind.trim()) return true;
  }
  return false;
}
