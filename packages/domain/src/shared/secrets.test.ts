import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretBox } from "./secrets.ts";

describe("secrets at rest", () => {
  const box = new SecretBox(randomBytes(32));

  it("round-trips and never stores the plaintext", () => {
    const sealed = box.encrypt("ghp_exampleToken123");
    expect(sealed).not.toContain("ghp_exampleToken123");
    expect(sealed.startsWith("v1.")).toBe(true);
    expect(box.decrypt(sealed)).toBe("ghp_exampleToken123");
  });

  it("uses a fresh IV every time", () => {
    expect(box.encrypt("same")).not.toBe(box.encrypt("same"));
  });

  it("refuses tampered ciphertext and another key", () => {
    const sealed = box.encrypt("deploy key");
    const parts = sealed.split(".");
    const data = Buffer.from(parts[3]!, "base64url");
    data[0] = (data[0] ?? 0) ^ 1;
    parts[3] = data.toString("base64url");
    expect(() => box.decrypt(parts.join("."))).toThrow();
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed)).toThrow();
  });

  it("requires a 32-byte key", () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});
