import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffRendered, kustomizeBuild } from "../../../packages/manifests/src/index.ts";
import { testKustomize } from "../../../packages/manifests/src/testing-kustomize.ts";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { failure, password, waitFor } from "./support.ts";

/**
 * Render-verified deploys through the real server: a repository with several workloads and containers on a
 * real Git server, the deploy API, and the commit checked with the real kustomize build of the branch.
 */

const run = promisify(execFile);
const TOKEN = "render-token";
const PATH = "k8s/overlays/development";

const statefulSet = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - name: postgres
          image: postgres:16.1
          resources: &res
            limits: {cpu: "1", memory: 1Gi}
        - name: exporter
          image: quay.io/prometheuscommunity/postgres-exporter:v0.15.0
          resources: *res
`;
const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
        - name: migrate
          image: ghcr.io/acme/web:1.0
          args: [migrate]
`;
const files: Record<string, string> = {
  "k8s/base/db.yaml": statefulSet,
  "k8s/base/web.yaml": deployment,
  "k8s/base/kustomization.yaml": "resources: [db.yaml, web.yaml]\n",
  [`${PATH}/kustomization.yaml`]: "resources: [../../base]\nnamespace: shop-dev\n",
};

let git: GitServer;
let server: TestServer;
let admin: Session;
let environmentId: string;

async function seed(repo: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-render-seed-"));
  const header = `Authorization: Basic ${Buffer.from(`dev:${TOKEN}`).toString("base64")}`;
  const g = (args: string[]) =>
    run(
      "git",
      ["-c", `http.extraHeader=${header}`, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", ...args],
      {
        cwd: dir,
      },
    );
  try {
    await g(["init", "-q", "-b", "main"]);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.join(dir, path.dirname(file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    await g(["add", "-A"]);
    await g(["commit", "-q", "-m", "layout"]);
    await g(["push", "-q", `${git.url}/${repo}.git`, "main"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The files of `dir` at `rev` on the served repository. */
async function filesAt(repo: string, rev: string): Promise<Record<string, string>> {
  const names = (await git.git(repo, ["ls-tree", "-r", "--name-only", rev, "k8s"])).split("\n").filter(Boolean);
  const out: Record<string, string> = {};
  for (const name of names) out[name] = await git.git(repo, ["show", `${rev}:${name}`]);
  return out;
}

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN });
  server = await startTestServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" });
  admin = new Session(server.url);
  await admin.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
  const org = await admin.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
  const project = await admin.api.projects.create.mutate({
    organizationId: org.id,
    name: "Shop",
    slug: "shop",
    visibility: "private",
  });
  await git.createRepo("shop", { withInitialCommit: false });
  await seed("shop");
  const repo = await admin.api.repositories.connect.mutate({
    projectId: project.id,
    provider: "git",
    url: `${git.url}/shop.git`,
    credential: { type: "token", token: TOKEN },
    registerWebhook: false,
  });
  const env = await admin.api.environments.create.mutate({
    projectId: project.id,
    name: "development",
    type: "development",
    approvalRequired: false,
    gitops: { enabled: true, repositoryId: repo.id, branch: "main", path: PATH, syncInterval: "1m", autoSync: true },
  });
  environmentId = env.id;
});

afterAll(async () => {
  await server?.close();
  await git?.close();
});

describe("render-verified deploys through the server", () => {
  it("lists every workload and reads the chosen container's values from the kustomize rendering", async () => {
    const first = await admin.api.deployments.deployableValues.query({ environmentId });
    expect(first.render).toMatchObject({ verified: true, tool: expect.stringMatching(/^kustomize v/) });
    expect(first.values.workloads).toEqual([
      { kind: "StatefulSet", name: "db", containers: ["postgres", "exporter"] },
      { kind: "Deployment", name: "web", containers: ["web", "migrate"] },
    ]);
    const exporter = await admin.api.deployments.deployableValues.query({
      environmentId,
      kind: "StatefulSet",
      workload: "db",
      container: "exporter",
    });
    expect(exporter.values).toMatchObject({
      kind: "StatefulSet",
      workload: "db",
      container: "exporter",
      image: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
      resources: { limits: { cpu: "1", memory: "1Gi" } },
    });
    const err = await failure(
      admin.api.deployments.deployableValues.query({ environmentId, workload: "db", container: "nope" }),
    );
    expect(err.message).toMatch(/container: StatefulSet db has no container "nope" \(containers: postgres, exporter\)/);
  });

  it("commits a change to one container of a StatefulSet that shares an anchor, and nothing else changes", async () => {
    const spec = {
      kind: "StatefulSet" as const,
      workload: "db",
      container: "exporter",
      image: "quay.io/prometheuscommunity/postgres-exporter:v0.16.0",
      resources: { limits: { memory: "256Mi" } },
    };
    const preview = await admin.api.deployments.preview.mutate({ environmentId, spec });
    expect(preview.target).toEqual({ kind: "StatefulSet", workload: "db", container: "exporter" });
    if (!preview.render.verified) throw new Error(`not verified: ${preview.render.reason}`);
    expect(preview.render.diff).toMatch(/^\+\s+image: quay\.io\/prometheuscommunity\/postgres-exporter:v0\.16\.0$/m);
    expect(preview.render.diff).not.toMatch(/^[-+].*postgres:16\.1/m);
    const before = (await git.git("shop", ["rev-parse", "main"])).trim();
    const requested = await admin.api.deployments.request.mutate({ environmentId, spec });
    const done = await waitFor(
      () => admin.api.deployments.get.query({ deploymentId: requested.id }),
      (d) => ["committed", "failed"].includes(d.status),
      30_000,
    );
    expect(done.error).toBeNull();
    expect(done.status).toBe("committed");
    const message = await git.git("shop", ["log", "-1", "--format=%B", "main"]);
    expect(message).toContain("(StatefulSet db, container exporter)");
    expect(message).toContain("Juanie-Workload: StatefulSet/db");
    expect(message).toContain("Juanie-Container: exporter");

    // What Flux would apply, before and after: exactly the two requested fields of that one container.
    const tool = await testKustomize();
    const changes = diffRendered(
      await kustomizeBuild(tool, await filesAt("shop", before), PATH),
      await kustomizeBuild(tool, await filesAt("shop", "main"), PATH),
    ).map((c) => `${c.object} · ${c.path} = ${JSON.stringify(c.after)}`);
    expect(changes).toEqual([
      'StatefulSet shop-dev/db · spec.template.spec.containers[exporter].image = "quay.io/prometheuscommunity/postgres-exporter:v0.16.0"',
      'StatefulSet shop-dev/db · spec.template.spec.containers[exporter].resources.limits.memory = "256Mi"',
    ]);
  });

  it("changes the image of one container when another container uses the same image", async () => {
    const spec = { kind: "Deployment" as const, workload: "web", container: "web", image: "ghcr.io/acme/web:2.0" };
    const preview = await admin.api.deployments.preview.mutate({ environmentId, spec });
    if (!preview.render.verified) throw new Error("not verified");
    expect(preview.render.diff).toMatch(/^\+\s+image: ghcr\.io\/acme\/web:2\.0$/m);
    // The migrate container keeps 1.0: the edit is a patch of the one container, not an images: entry.
    expect(preview.render.after).toMatch(/- name: migrate\n(\s+.*\n)*?\s+image: ghcr\.io\/acme\/web:1\.0\n/);
    // (deployment-patch.yaml already patches the StatefulSet: a second patch file for this workload.)
    expect(Object.keys(preview.files)).toContain(`${PATH}/deployment-patch-web.yaml`);
  });

  it("names the field when the chosen workload is not there", async () => {
    const err = await failure(
      admin.api.deployments.preview.mutate({ environmentId, spec: { kind: "DaemonSet", replicas: 2 } }),
    );
    expect(err.httpStatus).toBe(400);
    expect(err.juanie.fieldErrors?.["spec.kind"]?.[0]).toMatch(/no DaemonSet under k8s\/overlays\/development/);
  });
});
