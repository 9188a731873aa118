/**
 * Container image references, following the grammar of github.com/distribution/reference:
 * `[registry[:port]/]path[:tag][@algorithm:hex]`.
 */

const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = "\\[[a-fA-F0-9:]+\\]";
const domainAndPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const name = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const NAME_MAX_LENGTH = 255;

export interface ImageReference {
  /** Everything before the tag and digest: `ghcr.io/org/app`. */
  name: string;
  tag?: string;
  digest?: string;
}

export function isImageReference(text: string): boolean {
  return parseImageReference(text) !== null;
}

/** The parts of a valid image reference, or `null`. */
export function parseImageReference(text: string): ImageReference | null {
  const m = REFERENCE.exec(text);
  if (!m?.[1] || m[1].length > NAME_MAX_LENGTH) return null;
  const ref: ImageReference = { name: m[1] };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = m[3];
  return ref;
}

/**
 * The parts of whatever a manifest says the image is, valid or not: the tag is what follows the last
 * `:` after the last `/`, the digest what follows `@`. Used to match kustomize `images:` entries.
 */
export function splitImage(text: string): ImageReference {
  const at = text.indexOf("@");
  const beforeDigest = at < 0 ? text : text.slice(0, at);
  const colon = beforeDigest.lastIndexOf(":");
  const ref: ImageReference =
    colon > beforeDigest.lastIndexOf("/")
      ? { name: beforeDigest.slice(0, colon), tag: beforeDigest.slice(colon + 1) }
      : { name: beforeDigest };
  if (at >= 0) ref.digest = text.slice(at + 1);
  return ref;
}

export function formatImageReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}
