import { createHash, randomBytes } from "node:crypto";

/** A random URL-safe secret (session tokens, invitation tokens, OAuth state). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Only hashes of secrets are stored, so a database dump does not hand out sessions. */
export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
