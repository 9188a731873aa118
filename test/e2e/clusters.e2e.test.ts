// Issue 9: the cluster half of the loop in a real browser — add a simulated cluster, install Flux, bind an
// environment, deploy from the form and by `git push`, a failing workload, sync/suspend/resume, adopt.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { type FluxReleasesMirror, type KubeSim, serveFluxReleases, startKubeSim } from "@juanie/kube-sim";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

const run = promisify(execFile);
const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-cluster-token";

let browser: Browser;
let git: GitServer;
let server: RunningServer;
let sim: KubeSim;
let existing: KubeSim;
let mirror: FluxReleasesMirror;

beforeAll(async () => {
  [git, sim, existing, mirror] = await Promise.all([
    startGitServer({ token }),
    startKubeSim({ flux: { stepDelayMs: 50 } }),
    startKubeSim({ flux: { preinstalled: true, version: "2.6.4" } }),
    serveFluxReleases(),
  ]);
  server = await startBuiltServer({
    JUANIE_ALLOW_LOCAL_REPOSITORIES: "true",
    JUANIE_SCHEDULER_INTERVAL_MS: "300",
    JUANIE_CLUSTER_CHECK_INTERVAL_MS: "2000",
  });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await Promise.all([git?.close(), sim?.close(), existing?.close(), mirror?.close()]);
});

/** A developer's `git commit && git push` from a throwaway clone. */
async function pushByHand(repo: string, branch: string, file: string, edit: (t: string) => string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-e2e-clone-"));
  const header = `Authorization: Basic ${Buffer.from(`dev:${token}`).toString("base64")}`;
  const g = async (args: string[]) =>
    (
      await run(
        "git",
        ["-c", `http.extraHeader=${header}`, "-c", "user.name=Pat Pusher", "-c", "user.email=pat@example.com", ...args],
        { cwd: dir },
      )
    ).stdout.trim();
  try {
    await g(["clone", "--quiet", "--branch", branch, `${git.url}/${repo}.git`, "."]);
    await writeFile(path.join(dir, file), edit(await readFile(path.join(dir, file), "utf8")));
    await g(["commit", "--quiet", "-am", "Scale development by hand"]);
    await g(["push", "--quiet", "origin", `HEAD:${branch}`]);
    return await g(["rev-parse", "HEAD"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("clusters and Flux in the browser", () => {
  it("add a cluster → install Flux → bind development → deploy to healthy → push → failure → sync/suspend/resume → adopt", async () => {
    const problems: string[] = [];
    const admin = new Session(server.url);
    await admin.api.auth.setup.mutate({
      email: "ada@example.com",
      username: "ada",
      displayName: "Ada Admin",
      password: "correct horse battery",
    });
    const org = await admin.api.orgs.create.mutate({ name: "Acme Corp", slug: "acme-corp" });
    const project = await admin.api.projects.create.mutate({
      organizationId: org.id,
      name: "Web Shop",
      slug: "web-shop",
      visibility: "private",
    });
    const repo = await admin.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "git",
      url: await git.createRepo("shop"),
      credential: { type: "token", token },
      registerWebhook: false,
    });
    await admin.api.repositories.initializeLayout.mutate({
      repositoryId: repo.id,
      image: "ghcr.io/acme/shop:1.0.0",
      port: 8080,
    });
    await admin.api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repo.id });

    const ctx = await newContext(browser, "en");
    await ctx.addCookies([{ name: "juanie_session", value: admin.cookie!.split("=")[1]!, url: server.url }]);
    const page = await ctx.newPage();
    watchPage(page, problems, "ada");
    const orgUrl = `${server.url}/orgs/acme-corp`;

    // Add the simulated cluster by pasting its kubeconfig: checked before it is saved.
    await page.goto(`${orgUrl}/clusters`);
    await page.click(id("add-cluster"));
    await page.fill(id("cluster-name"), "edge");
    await page.fill(id("cluster-kubeconfig"), sim.kubeconfig());
    await page.click(id("save-cluster"));
    const row = page.locator(id("cluster-row")).filter({ hasText: "edge" });
    await row.waitFor();
    expect(await row.locator(id("cluster-version")).textContent()).toContain("v1.35");
    expect(await row.locator(id("simulated-badge")).count()).toBe(1);
    expect(await row.locator(id("cluster-nodes")).textContent()).toContain("1/1");
    await screenshot(page, "clusters-01-list");

    // Flux is absent: install it from the mirror, and watch the controllers become Ready without a reload.
    const [c] = await admin.api.clusters.list.query({ organizationId: org.id });
    await admin.api.clusters.update.mutate({ clusterId: c!.id, fluxMirrorUrl: mirror.urlTemplate });
    await row.locator(id("cluster-link")).click();
    await page.waitForSelector(id("flux-panel"));
    await page.waitForSelector(`${id("flux-install")}`);
    await page.click(id("flux-install"));
    await page.selectOption(`${id("flux-install-form")} ${id("flux-source")}`, "mirror");
    await page.fill(`${id("flux-install-form")} ${id("flux-version")}`, "2.7.3");
    await page.click(id("flux-install-submit"));
    await page.waitForSelector(`${id("flux-operation")}[data-action="install"][data-status="succeeded"]`, {
      timeout: 90_000,
    });
    for (const name of ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]) {
      await page.waitForSelector(`${id("flux-component")}[data-name="${name}"][data-ready="true"]`, {
        timeout: 30_000,
      });
    }
    expect(await page.textContent(`dd${id("flux-version")}`)).toContain("2.7.3");
    await screenshot(page, "clusters-02-flux-installed");

    // Bind development to the cluster in its settings.
    await page.goto(`${orgUrl}/projects/web-shop/environments`);
    const dev = `${id("env-card")}[data-name="development"]`;
    await page.click(`${dev} ${id("env-settings")}`);
    const form = id("environment-form");
    await page.click(`${form} ${id("tab-gitops")}`);
    await page.selectOption(`${form} ${id("env-cluster")}`, c!.id);
    await page.fill(`${form} ${id("env-interval")}`, "10s");
    await page.fill(`${form} ${id("env-timeout")}`, "10s");
    await page.click(id("save-environment"));
    await page.waitForSelector(`${dev} ${id("env-gitops-state")}[data-state="applied"]`, { timeout: 30_000 });
    expect(await page.textContent(`${dev} ${id("env-cluster")} ${id("env-namespace")}`)).toContain(
      "web-shop-development",
    );

    // Deploy from the form: the four steps reach healthy live, without a reload.
    await page.click(`${dev} ${id("deploy")}`);
    await page.waitForSelector(id("deploy-replicas"));
    await page.fill(id("deploy-replicas"), "2");
    await page.click(id("submit-deploy"));
    await page.waitForURL("**/deployments/*");
    const loads: string[] = [];
    page.on("load", () => loads.push(page.url()));
    for (const step of ["commit", "fetched", "applied", "healthy"]) {
      await page.waitForSelector(`${id(`rollout-step-${step}`)}[data-state="done"]`, { timeout: 60_000 });
    }
    expect(loads).toEqual([]);
    expect(await page.textContent(id("rollout-step-healthy"))).toMatch(/2\/2|2 of 2/);
    await screenshot(page, "clusters-03-deploy-healthy");

    // A `git push` to the branch: a gitops-git deployment that reaches healthy.
    const pushed = await pushByHand("shop", "develop", "k8s/overlays/development/kustomization.yaml", (t) =>
      t.replace("count: 2", "count: 1"),
    );
    const found = await waitForValue(
      async () =>
        (await admin.api.deployments.list.query({ projectId: project.id })).items.find((d) => d.commitSha === pushed),
      60_000,
    );
    expect(found.method).toBe("gitops-git");
    await page.goto(`${server.url}/deployments/${found.id}`);
    await page.waitForSelector(`${id("rollout-step-healthy")}[data-state="done"]`, { timeout: 60_000 });

    // A workload that cannot start: failed, with Flux's reason and message.
    await page.goto(`${orgUrl}/projects/web-shop/environments`);
    await page.click(`${dev} ${id("deploy")}`);
    await page.waitForSelector(id("deploy-image"));
    await page.fill(id("deploy-image"), "registry.example.com/acme/does-not-exist:9.9.9");
    await page.click(id("submit-deploy"));
    await page.waitForURL("**/deployments/*");
    await page.waitForSelector(`[data-testid^="rollout-step-"][data-state="failed"]`, { timeout: 60_000 });
    expect(await page.textContent(id("deployment-progress"))).toContain("HealthCheckFailed");
    await screenshot(page, "clusters-04-deploy-failed");

    // Sync now, suspend, resume from the environment card.
    await page.goto(`${orgUrl}/projects/web-shop/environments`);
    await page.click(`${dev} ${id("env-sync-now")}`);
    await page.waitForSelector(`${dev} ${id("env-sync-pending")}`, { state: "detached", timeout: 30_000 });
    await page.click(`${dev} ${id("env-suspend")}`);
    await page.waitForSelector(`${dev} ${id("env-flux-state")}[data-state="suspended"]`, { timeout: 30_000 });
    expect(
      (
        sim.store.get(
          sim.type("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
          "flux-system",
          "web-shop-development",
        ).spec as { suspend?: boolean }
      ).suspend,
    ).toBe(true);
    await page.click(`${dev} ${id("env-resume")}`);
    await page.waitForSelector(`${dev} ${id("env-flux-state")}:not([data-state="suspended"])`, { timeout: 30_000 });
    await screenshot(page, "clusters-05-env-card");

    // A cluster where Flux already runs: detected and adopted, not reinstalled.
    await page.goto(`${orgUrl}/clusters`);
    await page.click(id("add-cluster"));
    await page.fill(id("cluster-name"), "bootstrapped");
    await page.fill(id("cluster-kubeconfig"), existing.kubeconfig());
    await page.click(id("save-cluster"));
    await page.locator(id("cluster-row")).filter({ hasText: "bootstrapped" }).locator(id("cluster-link")).click();
    await page.waitForSelector(id("flux-adopt"), { timeout: 30_000 });
    expect(await page.textContent(`dd${id("flux-version")}`)).toContain("2.6.4");
    await page.click(id("flux-adopt"));
    await page.waitForSelector(`${id("flux-operation")}[data-action="adopt"][data-status="succeeded"]`, {
      timeout: 30_000,
    });
    await screenshot(page, "clusters-06-adopted");

    expect(problems).toEqual([]);
    await ctx.close();
  }, 600_000);
});

async function waitForValue<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 250));
  }
}
