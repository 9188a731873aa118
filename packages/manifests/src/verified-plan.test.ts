import { beforeAll, describe, expect, it } from "vitest";
import { ManifestError } from "./errors.ts";
import { type KustomizeTool, kustomizeBuild } from "./kustomize-build.ts";
import { diffRendered } from "./render-diff.ts";
import { baseDeployment, overlayRepo } from "./test-fixtures.ts";
import { testKustomize } from "./testing-kustomize.ts";
import { planVerifiedDeploy, renderedDeployValues } from "./verified-plan.ts";

// Every test here asserts on what the real kustomize renders before and after the change (the objects
// Flux would apply), not on the edited text alone.

let tool: KustomizeTool;
beforeAll(async () => {
  tool = await testKustomize();
});

/** The leaves that differ between the builds of `path` before and after `changes`, as `object · path = after`. */
async function renderedDiff(files: Record<string, string>, changes: Record<string, string>, path: string) {
  const before = await kustomizeBuild(tool, files, path);
  const after = await kustomizeBuild(tool, { ...files, ...changes }, path);
  return diffRendered(before, after).map((c) => `${c.object} · ${c.path} = ${JSON.stringify(c.after)}`);
}

async function refused(fn: () => Promise<unknown>): Promise<ManifestError> {
  const err = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ManifestError);
  return err as ManifestError;
}

const C = "spec.template.spec.containers";

describe("render-verified deploys: YAML anchors, aliases and merge keys", () => {
  const shared = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: ghcr.io/org/app:1.0
          resources: &res
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 500m, memory: 256Mi}
          env: &env
            - name: MODE
              value: web
            - name: REGION
              value: eu
        - &worker
          name: worker
          image: ghcr.io/org/worker:1.0
          resources: *res
          env: *env
        - <<: *worker
          name: worker-2
`;
  const files = () => ({ "app/deploy.yaml": shared });

  it("changes one container's resources without touching the containers that share them", async () => {
    const plan = await planVerifiedDeploy(
      files(),
      "app",
      { container: "app", resources: { limits: { cpu: "1" } } },
      tool,
    );
    expect(plan.render.verified).toBe(true);
    expect(await renderedDiff(files(), plan.changes, "app")).toEqual([
      `Deployment web · ${C}[app].resources.limits.cpu = "1"`,
    ]);
  });

  it("changes an aliased container's env without dropping what it shared", async () => {
    const plan = await planVerifiedDeploy(
      files(),
      "app",
      {
        container: "worker",
        env: [
          { name: "MODE", value: "worker" },
          { name: "REGION", value: "eu" },
        ],
      },
      tool,
    );
    expect(await renderedDiff(files(), plan.changes, "app")).toEqual([
      `Deployment web · ${C}[worker].env[MODE].value = "worker"`,
    ]);
  });

  it("changes the anchored container alone, not the one that merges it with <<", async () => {
    const plan = await planVerifiedDeploy(
      files(),
      "app",
      { container: "worker", image: "ghcr.io/org/worker:2.0" },
      tool,
    );
    expect(await renderedDiff(files(), plan.changes, "app")).toEqual([
      `Deployment web · ${C}[worker].image = "ghcr.io/org/worker:2.0"`,
    ]);
  });

  it("changes the container that merges another with << without touching the other", async () => {
    const plan = await planVerifiedDeploy(
      files(),
      "app",
      { container: "worker-2", resources: { requests: { memory: "128Mi" } } },
      tool,
    );
    expect(await renderedDiff(files(), plan.changes, "app")).toEqual([
      `Deployment web · ${C}[worker-2].resources.requests.memory = "128Mi"`,
    ]);
  });
});

describe("render-verified deploys: kustomize images: and containers sharing an image name", () => {
  const twoContainers = baseDeployment.replace(
    "      containers:\n",
    "      containers:\n        - name: migrate\n          image: ghcr.io/org/web:1.0\n          args: [migrate]\n",
  );
  const repo = (overlay: string) => ({
    ...overlayRepo(),
    "k8s/base/deployment.yaml": twoContainers,
    "k8s/overlays/development/kustomization.yaml": overlay,
  });
  const bare = "resources:\n  - ../../base\n";

  it("patches the one container when an images: entry would rename the other one too", async () => {
    const files = repo(bare);
    const plan = await planVerifiedDeploy(
      files,
      "k8s/overlays/development",
      { container: "web", image: "ghcr.io/org/web:2.0" },
      tool,
    );
    expect(await renderedDiff(files, plan.changes, "k8s/overlays/development")).toEqual([
      `Deployment web · ${C}[web].image = "ghcr.io/org/web:2.0"`,
    ]);
    expect(plan.changes["k8s/overlays/development/kustomization.yaml"]).not.toContain("images:");
  });

  it("still uses images: when no other container shares the name", async () => {
    const files = { ...overlayRepo() };
    const plan = await planVerifiedDeploy(files, "k8s/overlays/development", { image: "ghcr.io/org/web:2.0" }, tool);
    expect(plan.changes["k8s/overlays/development/kustomization.yaml"]).toContain("images:");
    expect(await renderedDiff(files, plan.changes, "k8s/overlays/development")).toEqual([
      `Deployment web-dev/web · ${C}[web].image = "ghcr.io/org/web:2.0"`,
    ]);
  });

  it("refuses, naming the other container, when an existing images: entry decides both", async () => {
    const files = repo(`${bare}images:\n  - name: ghcr.io/org/web\n    newTag: "1.5"\n`);
    const err = await refused(() =>
      planVerifiedDeploy(files, "k8s/overlays/development", { container: "web", image: "ghcr.io/org/web:2.0" }, tool),
    );
    expect(err.field).toBe("image");
    expect(err.message).toMatch(
      /^image: .*container migrate: image: "ghcr\.io\/org\/web:1\.5" → "ghcr\.io\/org\/web:2\.0"/,
    );
  });
});

describe("render-verified deploys: the order of containers", () => {
  it("keeps the containers' order when an overlay patch changes the second one", async () => {
    const three = baseDeployment
      .replace("      containers:\n", "      containers:\n        - name: first\n          image: busybox:1.36\n")
      .replace("    spec:\n      containers:\n", "    spec:\n      containers:\n");
    const files = {
      ...overlayRepo(),
      "k8s/base/deployment.yaml": `${three.trimEnd()}\n        - name: last\n          image: busybox:1.36\n`,
    };
    const dev = "k8s/overlays/development";
    const plan = await planVerifiedDeploy(files, dev, { container: "web", resources: { limits: { cpu: "2" } } }, tool);
    expect(plan.changes[`${dev}/deployment-patch.yaml`]).toMatch(/containers:\n\s+- name: first\n\s+- name: web\n/);
    expect(await renderedDiff(files, plan.changes, dev)).toEqual([
      `Deployment web-dev/web · ${C}[web].resources.limits.cpu = "2"`,
    ]);
  });
});

describe("render-verified deploys: patches and replicas transformers", () => {
  const dev = "k8s/overlays/development";
  const withOverlay = (kustomization: string, extra: Record<string, string> = {}) => ({
    ...overlayRepo(),
    [`${dev}/kustomization.yaml`]: kustomization,
    ...extra,
  });

  it("edits an inline strategic-merge patch's field where the overlay sets it", async () => {
    const files = withOverlay(`resources: [../../base]
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        template:
          spec:
            containers:
              - name: web
                resources: {limits: {cpu: 300m}}
`);
    const plan = await planVerifiedDeploy(files, dev, { resources: { limits: { cpu: "700m" } } }, tool);
    expect(await renderedDiff(files, plan.changes, dev)).toEqual([
      `Deployment web · ${C}[web].resources.limits.cpu = "700m"`,
    ]);
  });

  it.each([
    ["patch listed after", true],
    ["patch listed before", false],
  ])("takes effect over a JSON 6902 patch of the same field (%s)", async (_name, jsonFirst) => {
    const json = `  - target: {kind: Deployment, name: web}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/resources/limits
        value: {cpu: 250m}
`;
    const smp = "  - path: sizing.yaml\n";
    const files = withOverlay(`resources: [../../base]\npatches:\n${jsonFirst ? json + smp : smp + json}`, {
      [`${dev}/sizing.yaml`]:
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: [{name: web, env: [{name: X, value: '1'}]}]}}}\n",
    });
    const values = await renderedDeployValues(files, dev, {}, tool);
    expect(values.resources?.limits?.cpu).toBe("250m"); // read from what kustomize renders
    const result = await planVerifiedDeploy(files, dev, { resources: { limits: { cpu: "900m" } } }, tool).then(
      (plan) => plan,
      (err: unknown) => err,
    );
    if (result instanceof ManifestError) {
      // Refused only with a message saying what overrides the change.
      expect(result.message).toMatch(
        /^resources\.limits\.cpu: the change would not take effect: kustomize still renders/,
      );
    } else {
      const plan = result as Awaited<ReturnType<typeof planVerifiedDeploy>>;
      expect(await renderedDiff(files, plan.changes, dev)).toEqual([
        `Deployment web · ${C}[web].resources.limits.cpu = "900m"`,
      ]);
    }
  });

  it("takes effect over a JSON 6902 patch kept in a file (patchesJson6902) that sets the replicas", async () => {
    const files = withOverlay(
      "resources: [../../base]\npatchesJson6902:\n  - target: {group: apps, version: v1, kind: Deployment, name: web}\n    path: scale.yaml\n",
      { [`${dev}/scale.yaml`]: "- op: replace\n  path: /spec/replicas\n  value: 7\n" },
    );
    expect((await renderedDeployValues(files, dev, {}, tool)).replicas).toBe(7);
    const plan = await planVerifiedDeploy(files, dev, { replicas: 2 }, tool);
    expect(await renderedDiff(files, plan.changes, dev)).toEqual(["Deployment web · spec.replicas = 2"]);
    expect(plan.fields).toEqual([{ field: "replicas", before: 7, after: 2 }]);
  });

  it("takes effect over a JSON 6902 patch that renames the image (a patch of the container, not images:)", async () => {
    const files = withOverlay(`resources: [../../base]
patches:
  - target: {kind: Deployment, name: web}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/image
        value: ghcr.io/other/web:9
`);
    const values = await renderedDeployValues(files, dev, {}, tool);
    expect(values.image).toBe("ghcr.io/other/web:9");
    // An images: entry for ghcr.io/org/web would match nothing after the patch; a later patch does.
    const plan = await planVerifiedDeploy(files, dev, { image: "ghcr.io/org/web:2.0" }, tool);
    expect(await renderedDiff(files, plan.changes, dev)).toEqual([
      `Deployment web · ${C}[web].image = "ghcr.io/org/web:2.0"`,
    ]);
  });

  it("refuses, saying what overrides it, when a transformer runs after every edit the overlay can make", async () => {
    const files = withOverlay("resources: [../../base]\ntransformers: [pin.yaml]\n", {
      [`${dev}/pin.yaml`]:
        'apiVersion: builtin\nkind: ImageTagTransformer\nmetadata: {name: pin}\nimageTag: {name: ghcr.io/org/web, newTag: "1.9"}\n',
    });
    const err = await refused(() => planVerifiedDeploy(files, dev, { image: "ghcr.io/org/web:2.0" }, tool));
    expect(err.field).toBe("image");
    expect(err.message).toBe(
      `image: the change would not take effect: kustomize still renders image as "ghcr.io/org/web:1.9" after the edit — a later patch or transformer of ${dev} overrides it`,
    );
  });

  it("changes a replicas: transformer entry, in the base's or the overlay's kustomization", async () => {
    const staging = "k8s/overlays/staging";
    const files = overlayRepo();
    const plan = await planVerifiedDeploy(files, staging, { replicas: 4 }, tool);
    expect(plan.changes[`${staging}/kustomization.yaml`]).toContain("count: 4");
    expect(await renderedDiff(files, plan.changes, staging)).toEqual([
      "Deployment web-staging/web · spec.replicas = 4",
    ]);

    const baseReplicas = {
      ...overlayRepo(),
      "k8s/base/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\nreplicas: [{name: web, count: 3}]\n",
    };
    const plan2 = await planVerifiedDeploy(baseReplicas, dev, { replicas: 5 }, tool);
    expect(Object.keys(plan2.changes)).toEqual([`${dev}/kustomization.yaml`]);
    expect(await renderedDiff(baseReplicas, plan2.changes, dev)).toEqual([
      "Deployment web-dev/web · spec.replicas = 5",
    ]);
  });
});

describe("render-verified deploys: values YAML 1.1 readers take for non-strings", () => {
  const values = ["yes", "on", "No", "0755", "1e3", "1_000", "0x1F", "1:30", "2024-01-01", "~", "null", ".inf", "3.10"];
  it.each(values)("writes %s so that kustomize renders it as that string", async (value) => {
    const files = overlayRepo();
    const dev = "k8s/overlays/development";
    const plan = await planVerifiedDeploy(
      files,
      dev,
      {
        env: [
          { name: "LOG_LEVEL", value: "info" },
          { name: "FLAG", value },
        ],
      },
      tool,
    );
    expect(await renderedDiff(files, plan.changes, dev)).toEqual([
      `Deployment web-dev/web · ${C}[web].env[FLAG] = ${JSON.stringify({ name: "FLAG", value })}`,
    ]);
  });
});

describe("render-verified deploys: line endings, BOM, document markers", () => {
  const text = baseDeployment.replace("replicas: 1", "replicas: 1 # by hand");
  it.each([
    [
      "mixed CRLF and LF",
      (t: string) =>
        t
          .split("\n")
          .map((l, i) => (i % 2 === 0 ? `${l}\r` : l))
          .join("\n")
          .replace(/\r$/, ""),
    ],
    ["a BOM", (t: string) => `\uFEFF${t}`],
    ["document markers", (t: string) => `---\n${t}...\n`],
    ["no final newline", (t: string) => t.replace(/\n$/, "")],
  ])("changes only the changed line in a file with %s", async (_name, shape) => {
    const original = shape(text);
    const files = { "plain/deploy.yaml": original };
    const plan = await planVerifiedDeploy(files, "plain", { replicas: 3, image: "ghcr.io/org/web:2.0" }, tool);
    const edited = plan.changes["plain/deploy.yaml"] ?? "";
    const before = original.split("\n");
    const after = edited.split("\n");
    expect(after.length).toBe(before.length);
    const changed = before.flatMap((line, i) => (line === after[i] ? [] : [`${line} → ${after[i]}`]));
    expect(changed).toHaveLength(2);
    expect(changed.join("\n")).toMatch(/replicas: 1 # by hand\r? → {3}replicas: 3 # by hand\r?/);
    expect(await renderedDiff(files, plan.changes, "plain")).toEqual([
      `Deployment web · spec.replicas = 3`,
      `Deployment web · ${C}[web].image = "ghcr.io/org/web:2.0"`,
    ]);
  });
});

describe("render-verified values and results", () => {
  it("reads the form's values from the rendered output and says which kustomize verified them", async () => {
    const values = await renderedDeployValues(overlayRepo(), "k8s/overlays/staging", {}, tool);
    expect(values.image).toBe("ghcr.io/org/web:1.1");
    expect(values.replicas).toBe(2);
    expect(values.render).toMatchObject({ verified: true, tool: `kustomize ${tool.version}` });
  });

  it("returns the rendered workload before and after, and says it was verified", async () => {
    const plan = await planVerifiedDeploy(overlayRepo(), "k8s/overlays/production", { replicas: 5 }, tool);
    if (!plan.render.verified) throw new Error("expected a verified plan");
    expect(plan.render.tool).toMatch(/^kustomize v\d+\.\d+\.\d+$/);
    expect(plan.render.before).toContain("replicas: 3\n");
    expect(plan.render.after).toContain("replicas: 5\n");
    expect(plan.fields).toEqual([{ field: "replicas", before: 3, after: 5 }]);
  });

  it("says the change is not render-verified when there is no kustomize", async () => {
    const plan = await planVerifiedDeploy(overlayRepo(), "k8s/overlays/production", { replicas: 5 }, null);
    expect(plan.render).toEqual({ verified: false, reason: expect.stringMatching(/^no kustomize found/) });
    expect(plan.fields).toEqual([{ field: "replicas", before: 3, after: 5 }]);
  });

  it("does not build a tree that names a remote resource (the platform's host would fetch it), and says so", async () => {
    const files = {
      ...overlayRepo(),
      "k8s/overlays/development/kustomization.yaml":
        "resources:\n  - ../../base\n  - https://raw.githubusercontent.com/acme/x/main/cm.yaml\n",
    };
    const plan = await planVerifiedDeploy(files, "k8s/overlays/development", { replicas: 2 }, tool);
    expect(plan.render).toEqual({
      verified: false,
      reason:
        "not built on the platform's host: k8s/overlays/development/kustomization.yaml names the remote resource https://raw.githubusercontent.com/acme/x/main/cm.yaml",
    });
    expect(Object.keys(plan.changes)).toEqual(["k8s/overlays/development/kustomization.yaml"]);
  });

  it("names the failing kustomize build instead of guessing", async () => {
    const files = { ...overlayRepo(), "k8s/overlays/development/kustomization.yaml": "resources: [../../nowhere]\n" };
    const err = await refused(() => renderedDeployValues(files, "k8s/overlays/development", {}, tool));
    expect(err.message).toMatch(/nowhere/);
  });
});
