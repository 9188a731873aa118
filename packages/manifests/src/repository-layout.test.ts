import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { containerValues } from "./deployment-values.ts";
import { ManifestError } from "./errors.ts";
import {
  currentDeployValues,
  type DeploySpec,
  filesFromRecord,
  filesWithChanges,
  newRepositoryLayout,
  planDeploy,
} from "./index.ts";
import { isObject, type Json, type JsonObject } from "./strategic-merge.ts";
import { overlayRepo } from "./test-fixtures.ts";

const environments = [
  { name: "development", replicas: 1 },
  { name: "staging", replicas: 2 },
  { name: "production", replicas: 3, namespace: "shop-prod" },
];
const layout = () =>
  newRepositoryLayout({
    appName: "shop",
    image: "ghcr.io/acme/shop:1.0.0",
    port: 3000,
    namespace: "shop",
    environments,
  });

const parse = (text: string | undefined): JsonObject[] => {
  const docs = parseAllDocuments(text ?? "");
  return (Array.isArray(docs) ? docs : []).map((doc) => {
    expect(doc.errors).toEqual([]);
    const value: Json = doc.toJS();
    if (!isObject(value)) throw new Error("not a map");
    return value;
  });
};

describe("newRepositoryLayout", () => {
  it("writes base and one overlay per environment", () => {
    const files = layout();
    expect(Object.keys(files).sort()).toEqual([
      "k8s/base/deployment.yaml",
      "k8s/base/kustomization.yaml",
      "k8s/base/service.yaml",
      "k8s/overlays/development/kustomization.yaml",
      "k8s/overlays/production/kustomization.yaml",
      "k8s/overlays/staging/kustomization.yaml",
    ]);
    for (const text of Object.values(files)) parse(text);
    expect(parse(files["k8s/base/kustomization.yaml"])[0]).toMatchObject({
      kind: "Kustomization",
      resources: ["deployment.yaml", "service.yaml"],
    });
    expect(parse(files["k8s/base/deployment.yaml"])[0]).toMatchObject({
      kind: "Deployment",
      metadata: { name: "shop" },
      spec: {
        template: {
          spec: { containers: [{ name: "shop", image: "ghcr.io/acme/shop:1.0.0", ports: [{ containerPort: 3000 }] }] },
        },
      },
    });
    expect(parse(files["k8s/base/service.yaml"])[0]).toMatchObject({ kind: "Service", metadata: { name: "shop" } });
    expect(
      files["k8s/overlays/production/kustomization.yaml"],
    ).toBe(`# The production environment. Juanie's deploy form edits this directory only: the image in images:,
# the replica count in replicas:, other settings in deployment-patch.yaml (created when first needed).

apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop-prod
resources:
  - ../../base
images:
  - name: ghcr.io/acme/shop
    newTag: "1.0.0"
replicas:
  - name: shop
    count: 3
`);
    for (const env of environments) {
      expect(parse(files[`k8s/overlays/${env.name}/kustomization.yaml`])[0]).toMatchObject({
        namespace: env.namespace ?? "shop",
        resources: ["../../base"],
        replicas: [{ name: "shop", count: env.replicas }],
      });
    }
  });

  it.each(environments)("is ready for planDeploy in $name", ({ name, replicas }) => {
    const files = filesFromRecord(layout());
    const envPath = `k8s/overlays/${name}`;
    expect(currentDeployValues(files, envPath)).toMatchObject({ image: "ghcr.io/acme/shop:1.0.0", replicas });
    const plan = planDeploy(files, envPath, {
      image: "ghcr.io/acme/shop:1.1.0",
      replicas: replicas + 1,
      env: [{ name: "NODE_ENV", value: name }],
    });
    expect(Object.keys(plan.changes).sort()).toEqual([
      `${envPath}/deployment-patch.yaml`,
      `${envPath}/kustomization.yaml`,
    ]);
    expect(currentDeployValues(filesWithChanges(files, plan.changes), envPath)).toMatchObject({
      image: "ghcr.io/acme/shop:1.1.0",
      replicas: replicas + 1,
      env: [{ name: "NODE_ENV", value: name }],
    });
  });

  it.each([
    [{ appName: "Shop" }, "appName"],
    [{ image: "not an image" }, "image"],
    [{ port: 0 }, "port"],
    [{ namespace: "x_y" }, "namespace"],
    [{ environments: [] }, "environments"],
    [
      {
        environments: [
          { name: "prod", replicas: 1 },
          { name: "prod", replicas: 2 },
        ],
      },
      "environments.1.name",
    ],
    [{ environments: [{ name: "../x", replicas: 1 }] }, "environments.0.name"],
    [{ environments: [{ name: "dev", replicas: 1001 }] }, "environments.0.replicas"],
    [{ root: "../outside" }, "root"],
  ])("rejects %j naming the field", (override, field) => {
    const opts = {
      appName: "shop",
      image: "shop:1",
      port: 80,
      environments: [{ name: "dev", replicas: 1 }],
      ...override,
    };
    expect(() => newRepositoryLayout(opts)).toThrow(ManifestError);
    try {
      newRepositoryLayout(opts);
    } catch (err) {
      expect(err).toMatchObject({ field });
    }
  });
});

const KUBECTL = "/usr/bin/kubectl";
const hasKubectl = existsSync(KUBECTL);
const run = promisify(execFile);

/** Renders `dir` with the real kustomize and returns its Deployment. */
async function kustomize(files: Record<string, string>, envPath: string): Promise<JsonObject> {
  const root = await mkdtemp(path.join(os.tmpdir(), "juanie-kustomize-"));
  try {
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), content);
    }
    const { stdout } = await run(KUBECTL, ["kustomize", path.join(root, envPath)]);
    const deployment = parse(stdout).find((d) => d.kind === "Deployment");
    if (!deployment) throw new Error(`no Deployment in:\n${stdout}`);
    return deployment;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function renderedContainer(deployment: JsonObject, name: string): JsonObject {
  const spec = isObject(deployment.spec) ? deployment.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  const podSpec = isObject(template.spec) ? template.spec : {};
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
  return containers.filter(isObject).find((c) => c.name === name) ?? {};
}

describe.skipIf(!hasKubectl)(
  `kubectl kustomize renders what planDeploy planned (skipped when ${KUBECTL} is absent)`,
  () => {
    it.each(environments)("new layout, $name", async ({ name }) => {
      const files = layout();
      const envPath = `k8s/overlays/${name}`;
      const plan = planDeploy(filesFromRecord(files), envPath, {
        image: "ghcr.io/acme/shop:2.0.0",
        replicas: 4,
        env: [{ name: "MODE", value: "yes" }],
        resources: { requests: { cpu: "250m" }, limits: { memory: "256Mi" } },
        readinessProbe: { type: "http", path: "/ready", port: "http" },
      });
      const deployment = await kustomize({ ...files, ...plan.changes }, envPath);
      expect(deployment).toMatchObject({
        metadata: { name: "shop", namespace: name === "production" ? "shop-prod" : "shop" },
      });
      expect(isObject(deployment.spec) && deployment.spec.replicas).toBe(4);
      expect(renderedContainer(deployment, "shop")).toMatchObject({
        image: "ghcr.io/acme/shop:2.0.0",
        env: [{ name: "MODE", value: "yes" }],
        resources: { requests: { cpu: "250m" }, limits: { memory: "256Mi" } },
        readinessProbe: { httpGet: { path: "/ready", port: "http" } },
      });
    });

    // Our reading of an overlay (strategic merge, images:, replicas:, $patch: delete, null) must agree
    // with kustomize's, or edits would land where they do not take effect.
    const specs: DeploySpec[] = [
      { image: "ghcr.io/org/web:2.0", replicas: 5 },
      { image: "other.example.com:5000/web:3.1" },
      { env: [{ name: "ONLY", value: "1" }] },
      { env: [] },
      { readinessProbe: null, livenessProbe: { type: "exec", command: ["true"], periodSeconds: 3 } },
      { readinessProbe: { type: "tcp", port: 8080 } },
      { resources: { limits: { cpu: "2", memory: "1Gi" } }, imagePullPolicy: "Always" },
    ];
    for (const env of ["development", "staging", "production"]) {
      it.each(specs)(`seed layout, ${env}: %j`, async (spec) => {
        const files = overlayRepo();
        const envPath = `k8s/overlays/${env}`;
        const plan = planDeploy(filesFromRecord(files), envPath, spec);
        const ours = currentDeployValues(filesWithChanges(filesFromRecord(files), plan.changes), envPath);
        const deployment = await kustomize({ ...files, ...plan.changes }, envPath);
        const theirs = containerValues(renderedContainer(deployment, "web"));
        const sortEnv = (e: { name: string }[] | undefined) =>
          [...(e ?? [])].sort((a, b) => a.name.localeCompare(b.name));
        expect({ ...theirs, env: sortEnv(theirs.env) }).toEqual({
          image: ours.image,
          ...(ours.imagePullPolicy ? { imagePullPolicy: ours.imagePullPolicy } : {}),
          env: sortEnv(ours.env),
          valueFromEnv: ours.valueFromEnv,
          resources: ours.resources,
          ...(ours.livenessProbe ? { livenessProbe: ours.livenessProbe } : {}),
          ...(ours.readinessProbe ? { readinessProbe: ours.readinessProbe } : {}),
        });
        expect(isObject(deployment.spec) && deployment.spec.replicas).toBe(ours.replicas);
      });
    }
  },
);
