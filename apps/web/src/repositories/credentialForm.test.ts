import { describe, expect, it } from "vitest";
import { credentialInput, emptyCredential, looksLikeSsh } from "./credentialForm.ts";

describe("credentialInput", () => {
  it("sends a token, with the user name only when given", () => {
    expect(credentialInput({ ...emptyCredential(), token: " ghp_x " })).toEqual({ type: "token", token: "ghp_x" });
    expect(credentialInput({ ...emptyCredential(), token: "t", username: "bot" })).toEqual({
      type: "token",
      token: "t",
      username: "bot",
    });
  });

  it("sends a deploy key, with known_hosts only when given", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
    expect(credentialInput({ ...emptyCredential("ssh_key"), privateKey: key })).toEqual({
      type: "ssh_key",
      privateKey: key,
    });
    expect(
      credentialInput({ ...emptyCredential("ssh_key"), privateKey: key, knownHosts: "host ssh-ed25519 AAAA" }),
    ).toEqual({
      type: "ssh_key",
      privateKey: key,
      knownHosts: "host ssh-ed25519 AAAA",
    });
  });
});

describe("looksLikeSsh", () => {
  it("tells SSH URLs from HTTPS ones", () => {
    expect(looksLikeSsh("git@github.com:acme/shop.git")).toBe(true);
    expect(looksLikeSsh("ssh://git@gitlab.example.com:2222/acme/shop.git")).toBe(true);
    expect(looksLikeSsh("https://github.com/acme/shop.git")).toBe(false);
    expect(looksLikeSsh("https://user@example.com/acme/shop.git")).toBe(false);
  });
});
