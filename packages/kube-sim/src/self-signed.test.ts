import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { selfSignedCertificate } from "./self-signed.ts";

describe("the simulator's self-signed certificate", () => {
  it("is valid DER every time (a random serial once made 1 start in 128 fail with 'illegal padding')", () => {
    for (let i = 0; i < 500; i++) {
      const cert = new X509Certificate(selfSignedCertificate().cert);
      expect(cert.checkHost("localhost")).toBe("localhost");
      expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    }
  });
});
