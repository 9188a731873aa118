import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeconfigError, parseKubeconfig } from "./kubeconfig.ts";

const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");

type Rec = Record<string, unknown>;

function config(
  opts: { cluster?: Rec; user?: Rec; extraContexts?: string[]; current?: string | null; namespace?: string } = {},
) {
  const contexts = [
    {
      name: "prod",
      context: { cluster: "prod", user: "admin", ...(opts.namespace ? { namespace: opts.namespace } : {}) },
    },
    ...(opts.extraContexts ?? []).map((name) => ({ name, context: { cluster: "prod", user: "admin" } })),
  ];
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "prod",
        cluster: { server: "https://k3s.example.com:6443", "certificate-authority-data": CA, ...opts.cluster },
      },
    ],
    users: [{ name: "admin", user: opts.user ?? { token: "secret-token-value" } }],
    contexts,
    ...(opts.current === null ? {} : { "current-context": opts.current ?? "prod" }),
  });
}

function refusal(text: string, opts: { context?: string; allowExec?: boolean } = {}): KubeconfigError {
  try {
    parseKubeconfig(text, { allowExec: false, ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(KubeconfigError);
    expect((e as Error).message).not.toContain("secret-token-value");
    return e as KubeconfigError;
  }
  throw new Error("expected a refusal");
}

describe("parseKubeconfig", () => {
  it("summarises a token kubeconfig on its current context", () => {
    expect(parseKubeconfig(config({ namespace: "apps" }), { allowExec: false })).toEqual({
      context: "prod",
      cluster: "prod",
      server: "https://k3s.example.com:6443",
      namespace: "apps",
      user: "admin",
      authType: "token",
      insecureSkipTlsVerify: false,
    });
  });

  it("selects the requested context and names the auth type", () => {
    const s = parseKubeconfig(
      config({
        extraContexts: ["staging"],
        user: { "client-certificate-data": CA, "client-key-data": CA },
        cluster: { "insecure-skip-tls-verify": true },
      }),
      { context: "staging", allowExec: false },
    );
    expect(s.context).toBe("staging");
    expect(s.authType).toBe("client-certificate");
    expect(s.insecureSkipTlsVerify).toBe(true);
    expect(parseKubeconfig(config({ user: { username: "u", password: "p" } }), { allowExec: false }).authType).toBe(
      "basic",
    );
    expect(parseKubeconfig(config({ user: {} }), { allowExec: false }).authType).toBe("none");
  });

  it("uses the only context when there is no current-context, and asks to choose among several", () => {
    expect(parseKubeconfig(config({ current: null }), { allowExec: false }).context).toBe("prod");
    const e = refusal(config({ current: null, extraContexts: ["staging"] }));
    expect(e.field).toBe("context");
    expect(e.message).toContain("prod, staging");
  });

  it.each([
    ["not YAML", "a: [unclosed", "kubeconfig", /not valid YAML/],
    [
      "another kind",
      stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" } }),
      "kubeconfig",
      /of kind "Config"/,
    ],
    [
      "no contexts",
      stringify({ apiVersion: "v1", kind: "Config", clusters: [], contexts: [] }),
      "kubeconfig",
      /has no contexts/,
    ],
    ["too large", `${config()}\n# ${"x".repeat(1024 * 1024)}`, "kubeconfig", /larger than 1 MB/],
    [
      "a CA file",
      config({ cluster: { "certificate-authority": "/etc/ca.crt", "certificate-authority-data": undefined } }),
      "kubeconfig",
      /refers to a file \(certificate-authority\).*never reads files of its host/,
    ],
    [
      "a client certificate file",
      config({ user: { "client-certificate": "/c", "client-key-data": CA } }),
      "kubeconfig",
      /\(client-certificate\)/,
    ],
    [
      "a client key file",
      config({ user: { "client-certificate-data": CA, "client-key": "/k" } }),
      "kubeconfig",
      /\(client-key\)/,
    ],
    [
      "a token file",
      config({ user: { tokenFile: "/var/run/token" } }),
      "kubeconfig",
      /\(tokenFile\).*inline data \(token\)/,
    ],
    ["an auth provider", config({ user: { "auth-provider": { name: "gcp" } } }), "kubeconfig", /auth-provider \(gcp\)/],
    [
      "plain http",
      config({ cluster: { server: "http://10.0.0.1:8080" } }),
      "kubeconfig",
      /plain http.*only over https/,
    ],
    ["no server", config({ cluster: { server: "" } }), "kubeconfig", /has no server address/],
  ])("refuses %s", (_what, text, field, message) => {
    const e = refusal(text);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it("refuses an unknown context and lists the available ones", () => {
    const e = refusal(config({ extraContexts: ["staging"] }), { context: "dev" });
    expect(e.field).toBe("context");
    expect(e.message).toBe('the kubeconfig has no context "dev" (available: prod, staging)');
  });

  it("refuses exec plugins unless an administrator allowed them", () => {
    const text = config({
      user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "aws", args: ["eks"] } },
    });
    expect(refusal(text).message).toBe(
      `user "admin" uses an exec credential plugin (aws), which runs a program on the platform's host; an administrator must allow exec plugins`,
    );
    expect(parseKubeconfig(text, { allowExec: true }).authType).toBe("exec");
  });
});
