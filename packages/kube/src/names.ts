const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63 characters. */
export function isDns1123Label(value: string): boolean {
  return typeof value === "string" && value.length <= 63 && LABEL.test(value);
}

/** A DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters. */
export function isDns1123Subdomain(value: string): boolean {
  if (typeof value !== "string" || value.length === 0 || value.length > 253) return false;
  return value.split(".").every((part) => LABEL.test(part));
}

/** A name (of a namespace, object, …) that breaks Kubernetes' naming rules. */
export class KubeNameError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "KubeNameError";
    this.field = field;
  }
}

/**
 * Throws a KubeNameError naming `field` and the rule when `value` is not a valid Kubernetes name:
 * `kind` "label" (namespaces, services: ≤ 63) or "subdomain" (most objects: ≤ 253).
 */
export function assertKubeName(field: string, value: unknown, kind: "label" | "subdomain" = "subdomain"): void {
  const max = kind === "label" ? 63 : 253;
  const rule =
    kind === "label"
      ? "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
      : "lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit, at most 253 characters";
  if (typeof value !== "string" || value === "") throw new KubeNameError(field, `${field} is required (${rule})`);
  if (value.length > max) {
    throw new KubeNameError(
      field,
      `${field} "${value.slice(0, 80)}…" is ${value.length} characters long; at most ${max} are allowed`,
    );
  }
  const ok = kind === "label" ? isDns1123Label(value) : isDns1123Subdomain(value);
  if (!ok) throw new KubeNameError(field, `${field} "${value}" is not a valid Kubernetes name: use ${rule}`);
}
