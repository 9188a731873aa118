import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { en } from "../../apps/web/src/i18n/en.ts";
import { diffRendered, kustomizeBuild } from "../../packages/manifests/src/index.ts";
import { testKustomize } from "../../packages/manifests/src/testing-kustomize.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

/**
 * The deploy dialog on a repository with several workloads: choosing a StatefulSet's second container,
 * the kustomize-verified diff, the commit that touches only that container, the remembered choice,
 * and the same dialog in Chinese.
 */

const run = promisify(execFile);
const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-workloads-token";
const envPath = "k8s/overlays/development";
const postgres = "postgres:16.1";
const exporter = "quay.io/prometheuscommunity/postgres-exporter:v0.15.0";
const exporterNext = "quay.io/prometheuscommunity/postgres-exporter:v0.16.0";

const files: Record<string, string> = {
  "k8s/base/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
`,
  "k8s/base/db.yaml": `apiVersion: apps/v1
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
          image: ${postgres}
        - name: exporter
          image: ${exporter}
`,
  "k8s/base/kustomization.yaml": "resources: [web.yaml, db.yaml]\n",
  [`${envPath}/kustomization.yaml`]: "resources: [../../base]\nnamespace: shop-dev\n",
};

let browser: Browser;
let git: GitServer;
let server: RunningServer;

beforeAll(async () => {
  git = await startGitServer({ token });
  server = await startBuiltServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true", JUANIE_SCHEDULER_INTERVAL_MS: "300" });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await git?.close();
});

const watch = watchPage;

/**
 * English sentences of the catalog (the parts between placeholders, two words or more) that `page`'s
 * dialog shows. In Chinese, any of them is a message that fell back to English: the production build
 * logs no vue-i18n warning for a missing key, so `watch` alone would not notice.
 */
async function englishShown(page: Page): Promise<string[]> {
  const fragments = new Set<string>();
  const walk = (messages: object) => {
    for (const value of Object.values(messages)) {
      if (typeof value === "object" && value !== null) walk(value);
      else if (typeof value === "string")
        for (const part of value.split(/\{[^}]*\}|\|/)) {
          const text = part.trim().replace(/[.:,]$/, "");
          if (text.length >= 12 && text.includes(" ")) fragments.add(text);
        }
    }
  };
  walk(en);
  const shown = await page.innerText('[role="dialog"]');
  return [...fragments].filter((f) => shown.includes(f));
}

/** Pushes the layout to `main` with real git, as a developer would. */
async function seed(repoUrl: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-e2e-workloads-"));
  const header = `Authorization: Basic ${Buffer.from(`dev:${token}`).toString("base64")}`;
  const g = (args: string[]) =>
    run(
      "git",
      ["-c", `http.extraHeader=${header}`, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", ...args],
      { cwd: dir },
    );
  try {
    await g(["init", "-q", "-b", "main"]);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.join(dir, path.dirname(file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    await g(["add", "-A"]);
    await g(["commit", "-q", "-m", "web and db"]);
    await g(["push", "-q", repoUrl, "main"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The k8s files of the served repository at `rev`. */
async function filesAt(rev: string): Promise<Record<string, string>> {
  const names = (await git.git("shop", ["ls-tree", "-r", "--name-only", rev, "k8s"])).split("\n").filter(Boolean);
  const out: Record<string, string> = {};
  for (const name of names) out[name] = await git.git("shop", ["show", `${rev}:${name}`]);
  return out;
}

/** Waits until an input or select shows `value` (the dialog refetches the values after each choice). */
async function waitForValue(page: Page, testid: string, value: string) {
  const shown = () =>
    page
      .locator(id(testid))
      .inputValue({ timeout: 500 })
      .catch(() => "(absent)");
  await expect.poll(shown, { timeout: 15_000, message: `${testid} shows ${value}` }).toBe(value);
}

/** The rendered diff's lines as the user sees them, with their kind (add, remove, context …). */
async function renderedDiff(page: Page): Promise<{ kind: string; text: string }[]> {
  return page.$$eval(`${id("deploy-rendered-diff")} > div`, (lines) =>
    lines.map((l) => ({ kind: l.getAttribute("data-kind") ?? "", text: l.textContent ?? "" })),
  );
}

/** Opens development's deploy dialog and waits for its values. */
async function openDeploy(page: Page, projectUrl: string) {
  await page.goto(`${projectUrl}/environments`);
  await page.click(`${id("env-card")}[data-name="development"] ${id("deploy")}`);
  await page.waitForSelector(id("deploy-workload-select"));
  await page.waitForSelector(id("deploy-image"));
}

/** Chooses the StatefulSet, then its exporter container, and asks for v0.16.0; ends on the Diff tab. */
async function chooseExporterAndDiff(page: Page) {
  await page.selectOption(id("deploy-workload-select"), "StatefulSet/db");
  // A new workload starts at its first container.
  await page.waitForSelector(id("deploy-container-select"));
  await waitForValue(page, "deploy-container-select", "postgres");
  await waitForValue(page, "deploy-image", postgres);
  await page.selectOption(id("deploy-container-select"), "exporter");
  await waitForValue(page, "deploy-image", exporter);
  await page.fill(id("deploy-image"), exporterNext);
  await page.click(id("tab-diff"));
  // The preview of exactly this spec (an older one is shown dimmed, aria-busy).
  await page.waitForSelector(`[aria-busy="false"] ${id("deploy-rendered-diff")}`, { timeout: 20_000 });
}

describe("Deploy dialog with several workloads", () => {
  it("chooses a StatefulSet's second container, verifies with kustomize, commits only that image, remembers the choice", async () => {
    const problems: string[] = [];
    const repoUrl = await git.createRepo("shop");
    await seed(repoUrl);

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
      url: repoUrl,
      credential: { type: "token", token },
      registerWebhook: false,
    });
    await admin.api.environments.create.mutate({
      projectId: project.id,
      name: "development",
      type: "development",
      approvalRequired: false,
      gitops: {
        enabled: true,
        repositoryId: repo.id,
        branch: "main",
        path: envPath,
        syncInterval: "1m",
        autoSync: true,
      },
    });
    const projectUrl = `${server.url}/orgs/acme-corp/projects/web-shop`;
    const cookie = { name: "juanie_session", value: admin.cookie!.split("=")[1]!, url: server.url };

    const ctx = await newContext(browser, "en");
    await ctx.addCookies([cookie]);
    const page = await ctx.newPage();
    watch(page, problems, "en");

    // Every workload of the rendered environment is offered; a single-container one has no container choice.
    await openDeploy(page, projectUrl);
    const workloads = await page.$$eval(`${id("deploy-workload-select")} option`, (options) =>
      options.map((o) => o.getAttribute("value")).sort(),
    );
    expect(workloads).toEqual(["Deployment/web", "StatefulSet/db"]);
    expect(await page.textContent(id("deploy-render-values"))).toMatch(/as kustomize v\d+\.\d+/);
    await page.selectOption(id("deploy-workload-select"), "Deployment/web");
    await waitForValue(page, "deploy-image", "ghcr.io/acme/web:1.0.0");
    expect(await page.locator(id("deploy-container-select")).count()).toBe(0);

    await chooseExporterAndDiff(page);
    expect(await page.inputValue(id("deploy-workload-select"))).toBe("StatefulSet/db");
    expect(await page.textContent(id("deploy-workload-text"))).toContain("StatefulSet db, container exporter");
    expect(await page.textContent(id("deploy-verified"))).toMatch(/^\s*Verified with kustomize v\d+\.\d+/);
    expect(await page.textContent(id("deploy-rendered"))).toContain("What Flux will apply to StatefulSet db");
    const lines = await renderedDiff(page);
    const changedLines = lines.filter((l) => l.kind === "add" || l.kind === "remove");
    expect(changedLines).toContainEqual({ kind: "add", text: expect.stringMatching(/^\+\s+image: .*:v0\.16\.0$/) });
    expect(changedLines).toContainEqual({ kind: "remove", text: expect.stringMatching(/^-\s+image: .*:v0\.15\.0$/) });
    expect(changedLines.filter((l) => l.text.includes(postgres))).toEqual([]);
    // Only the image: one line out, one line in.
    expect(changedLines).toHaveLength(2);
    await screenshot(page, "workloads-01-en-diff");
    // The dialog scrolls inside the viewport: its lower half (the file diff, the commit message, the button) too.
    await page.locator(id("submit-deploy")).scrollIntoViewIfNeeded();
    await screenshot(page, "workloads-01b-en-diff-bottom");
    // The fallback check below finds English when there is some.
    expect((await englishShown(page)).length).toBeGreaterThan(5);

    // Submit and wait for the commit on the real branch.
    const before = (await git.git("shop", ["rev-parse", "main"])).trim();
    await page.click(id("submit-deploy"));
    await page.waitForURL("**/deployments/*");
    await page.waitForSelector(`${id("step-git")}[data-state="done"]`, { timeout: 30_000 });
    await screenshot(page, "workloads-02-deployment");
    const message = await git.git("shop", ["log", "-1", "--format=%B", "main"]);
    expect(message).toContain(exporterNext);
    expect(message).toMatch(/^Juanie-Workload: StatefulSet\/db$/m);
    expect(message).toMatch(/^Juanie-Container: exporter$/m);
    // The commit's file diff touches the exporter's image and nothing of postgres.
    const fileDiff = await git.git("shop", ["show", "--format=", "--unified=0", "main"]);
    const diffLines = fileDiff.split("\n").filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
    expect(diffLines.some((l) => l.startsWith("+") && l.includes("v0.16.0"))).toBe(true);
    expect(diffLines.filter((l) => /postgres:|name: postgres/.test(l))).toEqual([]);
    // What Flux applies, before and after, as the real kustomize renders the branch: the one image.
    const kustomize = await testKustomize();
    const changes = diffRendered(
      await kustomizeBuild(kustomize, await filesAt(before), envPath),
      await kustomizeBuild(kustomize, await filesAt("main"), envPath),
    ).map((c) => `${c.object} · ${c.path} = ${JSON.stringify(c.after)}`);
    expect(changes).toEqual([
      `StatefulSet shop-dev/db · spec.template.spec.containers[exporter].image = ${JSON.stringify(exporterNext)}`,
    ]);

    // Opening the dialog again starts at the same workload and container, with the image now on the branch.
    await openDeploy(page, projectUrl);
    await waitForValue(page, "deploy-image", exporterNext);
    expect(await page.inputValue(id("deploy-workload-select"))).toBe("StatefulSet/db");
    expect(await page.inputValue(id("deploy-container-select"))).toBe("exporter");
    await screenshot(page, "workloads-03-remembered");
    await ctx.close();

    // The same dialog in Chinese (a fresh browser: nothing remembered), up to the verified diff.
    const zh = await newContext(browser, "zh-CN");
    await zh.addCookies([cookie]);
    const zhPage = await zh.newPage();
    watch(zhPage, problems, "zh-CN");
    await openDeploy(zhPage, projectUrl);
    expect(await zhPage.textContent(id("deploy-render-values"))).toContain("当前值取自 kustomize v");
    // The branch now runs v0.16.0: ask for v0.17.0 instead.
    await zhPage.selectOption(id("deploy-workload-select"), "StatefulSet/db");
    await waitForValue(zhPage, "deploy-image", postgres);
    await zhPage.selectOption(id("deploy-container-select"), "exporter");
    await waitForValue(zhPage, "deploy-image", exporterNext);
    await zhPage.fill(id("deploy-image"), exporterNext.replace("v0.16.0", "v0.17.0"));
    await zhPage.click(id("tab-diff"));
    await zhPage.waitForSelector(`[aria-busy="false"] ${id("deploy-rendered-diff")}`, { timeout: 20_000 });
    expect(await zhPage.textContent(id("deploy-verified"))).toMatch(/已用 kustomize v\d+\.\d+/);
    expect(await zhPage.textContent(id("deploy-workload-text"))).toContain("容器 exporter");
    const zhChanged = (await renderedDiff(zhPage)).filter((l) => l.kind === "add" || l.kind === "remove");
    expect(zhChanged.map((l) => l.text.replace(/\s+/g, " ").trim())).toEqual([
      `- image: ${exporterNext}`,
      `+ image: ${exporterNext.replace("v0.16.0", "v0.17.0")}`,
    ]);
    await screenshot(zhPage, "workloads-04-zh-CN-diff");
    expect(await englishShown(zhPage)).toEqual([]);
    expect(await zhPage.innerText('[role="dialog"]')).not.toMatch(/\b(deployments|common)\.[a-z]+\./);
    await zh.close();

    expect(problems).toEqual([]);
  });
});
