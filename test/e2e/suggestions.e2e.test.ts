import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-suggest-token";
const check = (name: string) => `${id("suggested-env")}[data-name="${name}"] ${id("suggestion-check")}`;

let browser: Browser;
let git: GitServer;
let server: RunningServer;
let admin: Session;
let orgId: string;

beforeAll(async () => {
  git = await startGitServer({ token });
  server = await startBuiltServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" });
  browser = await launchBrowser();
  admin = new Session(server.url);
  await admin.api.auth.setup.mutate({
    email: "ada@example.com",
    username: "ada",
    displayName: "Ada Admin",
    password: "correct horse battery",
  });
  orgId = (await admin.api.orgs.create.mutate({ name: "Acme Corp", slug: "acme-corp" })).id;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await git?.close();
});

/** A project with a repository holding the starter layout on main (develop and staging do not exist). */
async function projectWithLayout(slug: string): Promise<void> {
  const project = await admin.api.projects.create.mutate({
    organizationId: orgId,
    name: slug,
    slug,
    visibility: "private",
  });
  const repo = await admin.api.repositories.connect.mutate({
    projectId: project.id,
    provider: "git",
    url: await git.createRepo(slug),
    credential: { type: "token", token },
    registerWebhook: false,
  });
  await admin.api.repositories.initializeLayout.mutate({
    repositoryId: repo.id,
    image: "ghcr.io/acme/shop:1.0.0",
    port: 8080,
  });
}

async function openEnvironments(locale: "en" | "zh-CN", slug: string, problems: string[]): Promise<Page> {
  const ctx = await newContext(browser, locale);
  await ctx.addCookies([{ name: "juanie_session", value: admin.cookie!.split("=")[1]!, url: server.url }]);
  const page = await ctx.newPage();
  watchPage(page, problems, `ada (${locale})`);
  await page.goto(`${server.url}/orgs/acme-corp/projects/${slug}/environments`);
  await page.waitForSelector(`${check("production")}[data-status="verified"]`, { timeout: 30_000 });
  return page;
}

describe("suggested environments are checked in the browser", () => {
  it("shows what was verified, creates a missing branch from main, keeps another unchecked", async () => {
    const problems: string[] = [];
    await projectWithLayout("shop");
    const page = await openEnvironments("en", "shop", problems);

    expect(await page.textContent(`${check("production")} ${id("suggestion-badge")}`)).toBe("Verified");
    expect(await page.textContent(`${check("production")} ${id("suggestion-detail")}`)).toBe(
      "kustomization found at k8s/overlays/production on main",
    );
    for (const name of ["development", "staging"]) {
      await page.waitForSelector(`${check(name)}[data-status="missing-branch"]`);
    }
    expect(await page.textContent(`${check("development")} ${id("suggestion-badge")}`)).toBe("Branch missing");
    expect(await page.textContent(`${check("development")} ${id("suggestion-detail")}`)).toBe(
      "The branch develop does not exist in the repository.",
    );
    expect((await page.textContent(`${check("development")} ${id("suggestion-create-branch")}`))?.trim()).toBe(
      "Create branch develop from main",
    );
    // Nothing is created while a suggestion neither passed nor was kept unchecked.
    expect(await page.isDisabled(id("create-suggested-envs"))).toBe(true);
    expect(await page.isVisible(id("suggestions-pending"))).toBe(true);
    await screenshot(page, "suggest-01-checked");
    await page.screenshot({ path: "/tmp/suggest-01-checked.png", fullPage: true });

    // Create develop from main: the branch appears at main's head and the suggestion turns green.
    await page.click(`${check("development")} ${id("suggestion-create-branch")}`);
    await page.waitForSelector(`${check("development")}[data-status="verified"]`, { timeout: 30_000 });
    const mainHead = (await git.git("shop", ["rev-parse", "refs/heads/main"])).trim();
    expect((await git.git("shop", ["rev-parse", "refs/heads/develop"])).trim()).toBe(mainHead);
    expect(await page.textContent(`${check("development")} ${id("suggestion-detail")}`)).toBe(
      "kustomization found at k8s/overlays/development on develop",
    );

    // Keep staging unchecked: it says so, and the environments can be created.
    await page.click(`${check("staging")} ${id("suggestion-keep-unchecked")}`);
    await page.waitForSelector(`${check("staging")}[data-status="unchecked"]`);
    expect(await page.textContent(check("staging"))).toContain("Unchecked");
    expect(await page.isDisabled(id("create-suggested-envs"))).toBe(false);
    await screenshot(page, "suggest-02-resolved");
    await page.screenshot({ path: "/tmp/suggest-02-resolved.png", fullPage: true });
    await page.click(id("create-suggested-envs"));
    await page.waitForSelector(`${id("env-card")}[data-name="staging"]`, { timeout: 30_000 });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("speaks Chinese", async () => {
    const problems: string[] = [];
    await projectWithLayout("zh-shop");
    const page = await openEnvironments("zh-CN", "zh-shop", problems);
    expect(await page.textContent(`${check("production")} ${id("suggestion-badge")}`)).toBe("已验证");
    await page.waitForSelector(`${check("development")}[data-status="missing-branch"]`);
    expect(await page.textContent(`${check("development")} ${id("suggestion-badge")}`)).toBe("分支不存在");
    expect((await page.textContent(`${check("development")} ${id("suggestion-create-branch")}`))?.trim()).toBe(
      "从 main 创建分支 develop",
    );
    await page.screenshot({ path: "/tmp/suggest-03-zh.png", fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
