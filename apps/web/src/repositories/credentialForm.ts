export const credentialTypes = ["token", "ssh_key"] as const;
export type CredentialType = (typeof credentialTypes)[number];

/** Held only while the form is open: a token or key is never shown again once submitted. */
export interface CredentialForm {
  type: CredentialType;
  token: string;
  username: string;
  privateKey: string;
  knownHosts: string;
}

export function emptyCredential(type: CredentialType = "token"): CredentialForm {
  return { type, token: "", username: "", privateKey: "", knownHosts: "" };
}

export type CredentialInput =
  | { type: "token"; token: string; username?: string }
  | { type: "ssh_key"; privateKey: string; knownHosts?: string };

export function credentialInput(form: CredentialForm): CredentialInput {
  if (form.type === "token") {
    const username = form.username.trim();
    return { type: "token", token: form.token.trim(), ...(username ? { username } : {}) };
  }
  return {
    type: "ssh_key",
    privateKey: form.privateKey,
    ...(form.knownHosts.trim() ? { knownHosts: form.knownHosts } : {}),
  };
}

/** `git@host:org/repo.git` and `ssh://…` need a deploy key; https URLs a token. */
export function looksLikeSsh(url: string): boolean {
  return /^(ssh:\/\/|[\w.-]+@[\w.-]+:)/.test(url.trim());
}
