import { execFile } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

/**
 * A team's first hour, in the browser: a promotion from staging to production prefilled with what staging
 * runs and linked to its source; a push that bypassed production's approvals, shown on the environment
 * until a maintainer acknowledges it; and the rollback dialog listing what a rollback undoes.
 */

const run = promisify(execFile);
const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-git-token";
const PROD = "k8s/overlays/production/kustomization.yaml";

let browser: Browser;
let git: GitServer;
let server: RunningServer;
let admin: Session;
let bob: Session;
let project: { id: string; slug: string };
let repoId: string;
let envs: Record<string, string>;

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const settled = (s: Session, deploymentId: string) =>
  waitFor(
    () => s.api.deployments.get.query({ deploymentId }),
    (d) => !["pending", "queued", "committing"].includes(d.status),
  );

beforeAll(async () => {
  git = await startGitServer({ token });
  server = await startBuiltServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true", JUANIE_SCHEDULER_INTERVAL_MS: "300" });
  browser = await launchBrowser();
  admin = new Session(server.url);
  await admin.api.auth.setup.mutate({
    email: "ada@example.com",
    username: "ada",
    displayName: "Ada Admin",
    password: "correct horse battery",
  });
  const org = await admin.api.orgs.create.mutate({ name: "Acme Corp", slug: "acme-corp" });
  project = await admin.api.projects.create.mutate({
    organizationId: org.id,
    name: "Web Shop",
    slug: "web-shop",
    visibility: "private",
  });
  // Bob, a developer: he deploys and promotes. Two colleagues so production's two approvals can be met.
  const members: Session[] = [];
  for (const username of ["bob", "carol", "dave"]) {
    const { acceptUrl } = await admin.api.invitations.create.mutate({
      organizationId: org.id,
      invitee: `${username}@example.com`,
      role: "member",
    });
    const invitationToken = acceptUrl.split("/invitations/")[1]!;
    const s = new Session(server.url);
    const me = await s.api.auth.signUp.mutate({
      invitationToken,
      email: `${username}@example.com`,
      username,
      displayName: username[0]!.toUpperCase() + username.slice(1),
      password: "a long enough password",
    });
    await s.api.invitations.acceptByToken.mutate({ token: invitationToken });
    await admin.api.projects.addMember.mutate({ projectId: project.id, userId: me.id, role: "developer" });
    members.push(s);
  }
  bob = members[0]!;
  const repo = await admin.api.repositories.connect.mutate({
    projectId: project.id,
    provider: "git",
    url: await git.createRepo("shop"),
    credential: { type: "token", token },
    registerWebhook: false,
  });
  repoId = repo.id;
  await admin.api.repositories.initializeLayout.mutate({
    repositoryId: repo.id,
    image: "ghcr.io/acme/shop:1.0.0",
    port: 8080,
  });
  const created = await admin.api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repo.id });
  envs = Object.fromEntries(created.map((e) => [e.name, e.id]));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await git?.close();
});

async function pageOf(s: Session, locale: "en" | "zh-CN", problems: string[], who: string): Promise<Page> {
  const ctx = await newContext(browser, locale);
  await ctx.addCookies([{ name: "juanie_session", value: s.cookie!.split("=")[1]!, url: server.url }]);
  const page = await ctx.newPage();
  watchPage(page, problems, who);
  return page;
}

/** A developer's own `git commit && git push` to `branch`, then the push webhook; returns the commit. */
async function pushByHand(branch: string, file: string, edit: (text: string) => string, message: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-e2e-hand-"));
  const header = `Authorization: Basic ${Buffer.from(`dev:${token}`).toString("base64")}`;
  const g = async (args: string[]) =>
    (
      await run(
        "git",
        [
          "-c",
          `http.extraHeader=${header}`,
          "-c",
          "user.name=Tess Tester",
          "-c",
          "user.email=tess@example.com",
          ...args,
        ],
        { cwd: dir },
      )
    ).stdout.trim();
  try {
    await g(["clone", "--quiet", "--branch", branch, `${git.url}/shop.git`, "."]);
    const before = await g(["rev-parse", "HEAD"]);
    await writeFile(path.join(dir, file), edit(await readFile(path.join(dir, file), "utf8")));
    await g(["commit", "--quiet", "-am", message]);
    await g(["push", "--quiet", "origin", `HEAD:${branch}`]);
    const sha = await g(["rev-parse", "HEAD"]);
    const { secret } = await admin.api.repositories.revealWebhookSecret.mutate({ repositoryId: repoId });
    const body = JSON.stringify({
      ref: `refs/heads/${branch}`,
      before,
      after: sha,
      repository: { full_name: "acme/shop" },
      commits: [],
      head_commit: null,
    });
    const res = await fetch(`${server.url}/api/webhooks/generic/${repoId}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
      body,
    });
    expect(res.status).toBe(202);
    return sha;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("a team's first hour", () => {
  it("promotes staging to production: the dialog is filled with what staging runs, the request links its source", async () => {
    const problems: string[] = [];
    const onStaging = await bob.api.deployments.request.mutate({
      environmentId: envs.staging!,
      spec: { image: "ghcr.io/acme/shop:2.3.0" },
    });
    expect((await settled(bob, onStaging.id)).status).toBe("committed");

    const page = await pageOf(bob, "en", problems, "bob");
    await page.goto(`${server.url}/orgs/acme-corp/projects/web-shop/environments`);
    const stagingCard = `${id("env-card")}[data-name="staging"]`;
    await page.waitForSelector(`${stagingCard} ${id("promote")}`);
    expect(await page.textContent(`${stagingCard} ${id("promote")}`)).toContain("Promote to production");
    // The last environment has nowhere to go.
    expect(await page.locator(`${id("env-card")}[data-name="production"] ${id("promote")}`).count()).toBe(0);
    await page.click(`${stagingCard} ${id("promote")}`);
    await page.waitForSelector(id("deploy-promotion"));
    expect(await page.textContent(id("deploy-dialog"))).toContain(`deployment #${onStaging.number}`);
    await page.waitForFunction(
      `document.querySelector('[data-testid="deploy-image"]')?.value === "ghcr.io/acme/shop:2.3.0"`,
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.textContent("[role=dialog] h2")).toContain("Promote from staging to production");
    await screenshot(page, "first-hour-01-promote-dialog");
    await page.click(id("submit-deploy"));
    await page.waitForURL(/\/deployments\/[0-9a-f-]+$/);
    await page.waitForSelector(id("promoted-from"));
    expect(await page.textContent(id("promoted-from"))).toContain(`Promoted from #${onStaging.number} (staging)`);
    await page.waitForSelector(`${id("deployment-status")}[data-status="awaiting_approval"]`);
    await screenshot(page, "first-hour-02-promoted");
    await page.click(id("promoted-from"));
    await page.waitForURL(new RegExp(`/deployments/${onStaging.id}$`));
    expect(problems).toEqual([]);
  });

  it("shows a push that bypassed production's approvals on the environment until a maintainer acknowledges it", async () => {
    const problems: string[] = [];
    const sha = await pushByHand("main", PROD, (t) => t.replace(/count: \d+/, "count: 9"), "hotfix: nine replicas");
    const recorded = await waitFor(
      async () =>
        (await admin.api.deployments.list.query({ projectId: project.id, limit: 100 })).items.find(
          (d) => d.commitSha === sha,
        ),
      (d) => d !== undefined,
    );
    expect(recorded!.bypassedApproval).toBe(true);

    const page = await pageOf(admin, "en", problems, "ada");
    await page.goto(`${server.url}/orgs/acme-corp/projects/web-shop/environments`);
    const prodCard = `${id("env-card")}[data-name="production"]`;
    await page.waitForSelector(`${prodCard} ${id("env-bypass")}`);
    const warning = (await page.textContent(`${prodCard} ${id("env-bypass")}`))!;
    expect(warning).toContain("1 commit reached this environment without its approvals");
    expect(warning).toContain(`#${recorded!.number} ${sha.slice(0, 7)} by Tess Tester`);
    expect(await page.locator(`${id("env-card")}[data-name="staging"] ${id("env-bypass")}`).count()).toBe(0);
    await screenshot(page, "first-hour-03-bypass-warning");

    // The settings of the gated environment say how to protect the branch (plain Git: the host cannot be asked).
    await page.click(`${prodCard} ${id("env-settings")}`);
    await page.waitForSelector(`${id("branch-protection")}[data-status="unknown"]`);
    expect(await page.textContent(id("branch-protection-howto"))).toContain(
      "protect main so that only the credential Juanie uses may push",
    );
    await screenshot(page, "first-hour-04-branch-protection");
    await page.keyboard.press("Escape");

    // The deployment says so too.
    await page.click(`${prodCard} ${id("env-bypass-latest")}`);
    await page.waitForSelector(id("deployment-bypassed"));
    expect(await page.textContent(id("deployment-bypass-note"))).toContain("without the environment's approvals");
    await page.goBack();

    // In Chinese, for Bob (who may not acknowledge).
    const bobPage = await pageOf(bob, "zh-CN", problems, "bob");
    await bobPage.goto(`${server.url}/orgs/acme-corp/projects/web-shop/environments`);
    await bobPage.waitForSelector(`${prodCard} ${id("env-bypass")}`);
    expect(await bobPage.textContent(`${prodCard} ${id("env-bypass")}`)).toContain("有 1 个提交未经审批到达了此环境");
    expect(await bobPage.locator(`${prodCard} ${id("env-bypass-acknowledge")}`).count()).toBe(0);
    await screenshot(bobPage, "first-hour-05-bypass-warning-zh-CN");
    // On a phone the warning and the promote button fit the width.
    await bobPage.setViewportSize({ width: 390, height: 844 });
    await bobPage.waitForSelector(`${prodCard} ${id("env-bypass")}`);
    expect(await bobPage.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await screenshot(bobPage, "first-hour-05b-bypass-warning-390");

    // Ada acknowledges: the warning goes.
    await page.waitForSelector(`${prodCard} ${id("env-bypass-acknowledge")}`);
    await page.click(`${prodCard} ${id("env-bypass-acknowledge")}`);
    await page.waitForSelector(`${prodCard} ${id("env-bypass")}`, { state: "detached" });
    expect(problems).toEqual([]);
  });

  it("the rollback dialog lists the deployments and commits it undoes and the rendered difference", async () => {
    const problems: string[] = [];
    const first = await bob.api.deployments.request.mutate({ environmentId: envs.development!, spec: { replicas: 2 } });
    await settled(bob, first.id);
    const second = await bob.api.deployments.request.mutate({
      environmentId: envs.development!,
      spec: { replicas: 3, image: "ghcr.io/acme/shop:2.4.0" },
    });
    const secondDone = await settled(bob, second.id);

    const page = await pageOf(bob, "en", problems, "bob");
    await page.goto(`${server.url}/deployments/${first.id}`);
    await page.click(id("rollback"));
    await page.waitForSelector(id("rollback-deployment"), { timeout: 30_000 });
    const rows = page.locator(id("rollback-deployment"));
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-number")).toBe(String(second.number));
    const row = (await rows.first().textContent())!;
    expect(row).toContain("Bob");
    expect(row).toContain("image, replicas");
    expect(await page.textContent(id("rollback-dialog"))).toContain(
      "1 deployment since this one, superseded by the rollback",
    );
    expect(await page.locator(`${id("rollback-commit")}[data-sha="${secondDone.commitSha}"]`).count()).toBe(1);
    await screenshot(page, "first-hour-06-rollback-list");

    await page.click(id("rollback-tab-rendered"));
    await page.waitForSelector(`${id("rollback-rendered")}[data-verified="true"]`);
    const changes = (await page.textContent(id("rollback-rendered-changes")))!;
    expect(changes).toContain("spec.replicas");
    expect(changes).toContain("ghcr.io/acme/shop:2.4.0");
    await screenshot(page, "first-hour-07-rollback-rendered");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click(id("rollback-tab-undone"));
    await page.waitForSelector(id("rollback-deployment"));
    const dialog = (await page.locator(id("rollback-dialog")).boundingBox())!;
    expect(dialog.x).toBeGreaterThanOrEqual(0);
    expect(dialog.x + dialog.width).toBeLessThanOrEqual(390);
    await screenshot(page, "first-hour-07b-rollback-390");

    await page.click(`${id("rollback-dialog")} ${id("confirm")}`);
    await page.waitForURL((u) => !u.pathname.endsWith(first.id));
    await page.waitForSelector(id("rollback-of"));
    expect(problems).toEqual([]);
  });

  it("the audit log names users, projects, environments and deployments, with links, filtered by project", async () => {
    const problems: string[] = [];
    const page = await pageOf(admin, "en", problems, "ada");
    await page.goto(`${server.url}/audit`);
    await page.waitForSelector(id("audit-row"));
    const orgs = await page.locator(`${id("audit-org")} option`).allTextContents();
    expect(orgs).toContain("Acme Corp");
    await page.selectOption(id("audit-org"), { label: "Acme Corp" });
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-testid="audit-project"] option')].some((o) => o.textContent === "Web Shop")`,
    );
    await page.selectOption(id("audit-project"), { label: "Web Shop" });
    await page.selectOption(id("audit-action"), "deployment.bypassed_approval");
    const row = `${id("audit-row")}[data-action="deployment.bypassed_approval"]`;
    await page.waitForSelector(row);
    expect(await page.locator(id("audit-row")).count()).toBe(1);
    expect(await page.textContent(`${row} ${id("audit-actor")}`)).toBe("Tess Tester");
    const resource = (await page.textContent(`${row} ${id("audit-resource")}`))!;
    expect(resource).toMatch(/Deployment\s*#\d+\s*production\s*Web Shop/);
    // No internal id in the row: it is in the details and the export.
    expect(resource).not.toMatch(/[0-9a-f]{8}-/);
    expect(await page.getAttribute(id("export-jsonl"), "href")).toMatch(/format=jsonl&.*projectId=/);
    await screenshot(page, "first-hour-08-audit-names");
    await page.click(`${row} ${id("audit-project-link")}`);
    await page.waitForURL(/\/orgs\/acme-corp\/projects\/web-shop$/);
    expect(problems).toEqual([]);
  });
});
