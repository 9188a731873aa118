import { describe, expect, it } from "vitest";
import { deploySpecSchema, describeIssue, parseDeploySpec } from "./deploy-spec.ts";
import { ManifestError } from "./errors.ts";

const issuesOf = (input: unknown) => {
  const result = deploySpecSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map(describeIssue);
};

describe("deploySpecSchema", () => {
  it.each([
    { image: "app:1.2" },
    { image: "ghcr.io/org/app:1.2.3" },
    { image: "registry.example.com:5000/team/sub/app:v1.0-rc.1" },
    { image: `app@sha256:${"0".repeat(64)}` },
    { image: `localhost/app:1@sha256:${"f".repeat(64)}` },
    { replicas: 0 },
    { replicas: 1000 },
    { env: [] },
    {
      env: [
        { name: "A_B.c-d", value: "" },
        { name: "_x", value: "1" },
      ],
    },
    { resources: { requests: { cpu: "500m", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
    { resources: { requests: { cpu: "0.5" }, limits: { cpu: "500m" } } },
    { resources: { requests: { memory: "1e3" } } },
    { livenessProbe: null },
    { readinessProbe: { type: "http", path: "/", port: "http", initialDelaySeconds: 0, failureThreshold: 3 } },
    { readinessProbe: { type: "tcp", port: 65535, periodSeconds: 1, timeoutSeconds: 1 } },
    { readinessProbe: { type: "exec", command: ["cat", "/tmp/ok"] } },
    { workload: "web.v2", container: "web-1", imagePullPolicy: "Never" },
  ])("accepts %j", (spec) => {
    expect(issuesOf(spec)).toEqual([]);
  });

  it("turns a numeric port typed as text into a number", () => {
    expect(parseDeploySpec({ livenessProbe: { type: "tcp", port: "8080" } }).livenessProbe).toEqual({
      type: "tcp",
      port: 8080,
    });
  });

  const port =
    "must be a port number from 1 to 65535 or a port name (IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', with at least one letter)";
  it.each([
    [
      {},
      "spec: must request at least one change (one of image, imagePullPolicy, replicas, env, resources, livenessProbe, readinessProbe)",
    ],
    [
      { container: "web" },
      "spec: must request at least one change (one of image, imagePullPolicy, replicas, env, resources, livenessProbe, readinessProbe)",
    ],
    [
      { resources: {} },
      "spec: must request at least one change (one of image, imagePullPolicy, replicas, env, resources, livenessProbe, readinessProbe)",
    ],
    ["image: x", "spec: must be an object"],
    [{ replicas: 1, imagePullPolicyy: "Always" }, "imagePullPolicyy: is not a known field"],
    [
      { workload: "Web", replicas: 1 },
      "workload: must be a Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253 characters)",
    ],
    [
      { container: "web_1", replicas: 1 },
      "container: must be a container name (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    ],
    [{ image: "Ghcr.io/Org/App:1" }, "image: must be a valid image reference like registry.example.com/team/app:1.2.3"],
    [{ image: "app:" }, "image: must be a valid image reference like registry.example.com/team/app:1.2.3"],
    [{ image: "app@sha256:abc" }, "image: must be a valid image reference like registry.example.com/team/app:1.2.3"],
    [
      { image: "ghcr.io/org/app:1.0 ; rm -rf /" },
      "image: must be a valid image reference like registry.example.com/team/app:1.2.3",
    ],
    [{ image: "nginx" }, "image: must name a tag or a digest, like app:1.2.3 or app@sha256:…"],
    [{ image: "registry.example.com/app" }, "image: must name a tag or a digest, like app:1.2.3 or app@sha256:…"],
    [{ image: "localhost:5000/app" }, "image: must name a tag or a digest, like app:1.2.3 or app@sha256:…"],
    [{ image: 5 }, "image: must be a valid image reference like registry.example.com/team/app:1.2.3"],
    [{ imagePullPolicy: "always" }, "imagePullPolicy: must be one of Always, IfNotPresent or Never"],
    [{ replicas: -1 }, "replicas: must be an integer from 0 to 1000"],
    [{ replicas: 1001 }, "replicas: must be an integer from 0 to 1000"],
    [{ replicas: 1.5 }, "replicas: must be an integer from 0 to 1000"],
    [{ replicas: "3" }, "replicas: must be an integer from 0 to 1000"],
    [{ env: { A: "1" } }, "env: must be a list of { name, value } entries"],
    [
      {
        env: [
          { name: "OK", value: "1" },
          { name: "A", value: "1" },
          { name: "2FAST", value: "x" },
        ],
      },
      "env.2.name: must consist of letters, digits, '_', '-' or '.', and must not start with a digit",
    ],
    [
      { env: [{ name: "A B", value: "1" }] },
      "env.0.name: must consist of letters, digits, '_', '-' or '.', and must not start with a digit",
    ],
    [{ env: [{ name: "A", value: 1 }] }, "env.0.value: must be a string"],
    [{ env: [{ name: "A", value: "1", valueFrom: {} }] }, "env.0.valueFrom: is not a known field"],
    [
      {
        env: [
          { name: "A", value: "1" },
          { name: "A", value: "2" },
        ],
      },
      'env.1.name: must be unique ("A" is also env.0.name)',
    ],
    [{ resources: { limits: { cpu: "500 m" } } }, "resources.limits.cpu: must be a Kubernetes quantity like 500m or 1"],
    [
      { resources: { requests: { cpu: "-1" } } },
      "resources.requests.cpu: must be a Kubernetes quantity like 500m or 1",
    ],
    [
      { resources: { requests: { memory: "128MB" } } },
      "resources.requests.memory: must be a Kubernetes quantity like 128Mi or 1Gi",
    ],
    [
      { resources: { limits: { memory: 128 } } },
      "resources.limits.memory: must be a Kubernetes quantity like 128Mi or 1Gi",
    ],
    [{ resources: { requests: { gpu: "1" } } }, "resources.requests.gpu: is not a known field"],
    [
      { resources: { requests: { cpu: "1" }, limits: { cpu: "999m" } } },
      "resources.limits.cpu: must not be less than resources.requests.cpu (1)",
    ],
    [
      { resources: { requests: { memory: "1Gi" }, limits: { memory: "1000Mi" } } },
      "resources.limits.memory: must not be less than resources.requests.memory (1Gi)",
    ],
    [{ livenessProbe: "on" }, "livenessProbe: must be a probe object, or null to remove the probe"],
    [{ livenessProbe: { type: "grpc", port: 9090 } }, "livenessProbe.type: must be one of http, tcp or exec"],
    [
      { livenessProbe: { type: "http", path: "healthz", port: 80 } },
      "livenessProbe.path: must be an HTTP path starting with '/'",
    ],
    [{ livenessProbe: { type: "tcp", port: 0 } }, `livenessProbe.port: ${port}`],
    [{ livenessProbe: { type: "tcp", port: 65536 } }, `livenessProbe.port: ${port}`],
    [{ livenessProbe: { type: "tcp", port: "Http" } }, `livenessProbe.port: ${port}`],
    [{ livenessProbe: { type: "tcp", port: "a-very-long-port-name" } }, `livenessProbe.port: ${port}`],
    [{ livenessProbe: { type: "tcp", port: "1234" } }, undefined],
    [{ livenessProbe: { type: "tcp", port: "70000" } }, `livenessProbe.port: ${port}`],
    [{ readinessProbe: { type: "exec", command: [] } }, "readinessProbe.command: must be a non-empty list of strings"],
    [
      { readinessProbe: { type: "exec", command: "true" } },
      "readinessProbe.command: must be a non-empty list of strings",
    ],
    [
      { readinessProbe: { type: "tcp", port: 80, initialDelaySeconds: -1 } },
      "readinessProbe.initialDelaySeconds: must be an integer from 0 to 86400",
    ],
    [
      { readinessProbe: { type: "tcp", port: 80, periodSeconds: 0 } },
      "readinessProbe.periodSeconds: must be an integer from 1 to 86400",
    ],
    [
      { readinessProbe: { type: "tcp", port: 80, timeoutSeconds: 1.5 } },
      "readinessProbe.timeoutSeconds: must be an integer from 1 to 86400",
    ],
    [
      { readinessProbe: { type: "tcp", port: 80, failureThreshold: 0 } },
      "readinessProbe.failureThreshold: must be an integer from 1 to 1000",
    ],
    [{ readinessProbe: { type: "tcp", port: 80, path: "/" } }, "readinessProbe.path: is not a known field"],
  ])("rejects %j with the field and the rule", (input, message) => {
    const issues = issuesOf(input);
    if (message === undefined) expect(issues).toEqual([]);
    else expect(issues).toEqual([message]);
  });
});

describe("parseDeploySpec", () => {
  it("throws a ManifestError with every field's errors", () => {
    let error: unknown;
    try {
      parseDeploySpec({ replicas: -1, env: [{ name: "1", value: "x" }] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect(error).toMatchObject({
      field: "replicas",
      message:
        "replicas: must be an integer from 0 to 1000; env.0.name: must consist of letters, digits, '_', '-' or '.', and must not start with a digit",
      fieldErrors: {
        replicas: ["must be an integer from 0 to 1000"],
        "env.0.name": ["must consist of letters, digits, '_', '-' or '.', and must not start with a digit"],
      },
    });
  });
});
