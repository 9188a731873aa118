import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

/**
 * Notifications worth reading, in the browser: a waiting request reads (in Chinese) with the project, the
 * environment, its number, who asks and what changes, and opens the deployment; several are marked read at
 * once; a project is muted from a notification's menu and unmuted from the project's header.
 */

const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-git-token";

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

async function colleague(admin: Session, orgId: string, projectId: string, username: string) {
  const { acceptUrl } = await admin.api.invitations.create.mutate({
    organizationId: orgId,
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
  await admin.api.projects.addMember.mutate({ projectId, userId: me.id, role: "developer" });
  return { s, id: me.id };
}

async function pageOf(s: Session, locale: "en" | "zh-CN", problems: string[], who: string): Promise<Page> {
  const ctx = await newContext(browser, locale);
  await ctx.addCookies([{ name: "juanie_session", value: s.cookie!.split("=")[1]!, url: server.url }]);
  const page = await ctx.newPage();
  watchPage(page, problems, who);
  return page;
}

const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => e.textContent ?? ""));

describe("notifications in the browser", () => {
  it("read in Chinese with the whole story → open the deployment → mark several read → mute and unmute", async () => {
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
    const bob = await colleague(admin, org.id, project.id, "bob");
    const carol = await colleague(admin, org.id, project.id, "carol");
    await colleague(admin, org.id, project.id, "dave");
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
    const envs = await admin.api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repo.id });
    const production = envs.find((e) => e.name === "production")!;
    // Being added to the project told Carol so: read, to start from nothing unread.
    await carol.s.api.notifications.markAllRead.mutate();
    // Bob asks for two deployments to production: Carol may approve them.
    const first = await bob.s.api.deployments.request.mutate({
      environmentId: production.id,
      spec: { image: "ghcr.io/acme/shop:1.1.0" },
    });
    await bob.s.api.deployments.request.mutate({ environmentId: production.id, spec: { replicas: 5 } });

    // Carol, in Chinese: the bell counts two; each reads with project, environment, #n, who and what.
    const page = await pageOf(carol.s, "zh-CN", problems, "carol");
    await page.goto(`${server.url}/`);
    await page.waitForSelector(`${id("notification-bell")}[data-count="2"]`, { timeout: 20_000 });
    await page.click(id("notification-bell"));
    await page.waitForSelector(`${id("notification-item")}[data-kind="deployment.approval_requested"]`);
    const inBell = await texts(page, id("notification-text"));
    expect(inBell.slice(0, 2)).toEqual([
      "Bob 请你审批项目 Web Shop 部署到 production 的 #2：更改了 1 项设置。",
      "Bob 请你审批项目 Web Shop 部署到 production 的 #1：版本 1.0.0 → 1.1.0。",
    ]);
    await screenshot(page, "notifications-01-bell-zh-CN");

    // Opening one goes to the deployment and marks it read.
    await page.click(`${id("notification-item")}:has-text("#1")`);
    await page.waitForURL(`**/deployments/${first.id}`);
    await page.waitForSelector(`${id("notification-bell")}[data-count="1"]`);

    // More arrive; on the list, two are selected and marked read together; one stays unread.
    await admin.api.projects.changeMemberRole.mutate({ projectId: project.id, userId: carol.id, role: "maintainer" });
    await bob.s.api.deployments.request.mutate({ environmentId: production.id, spec: { replicas: 6 } });
    await page.goto(`${server.url}/notifications`);
    await page.waitForSelector(`${id("notification-bell")}[data-count="3"]`, { timeout: 20_000 });
    await page.waitForSelector(`${id("notification-row")} >> nth=3`);
    const boxes = await page.$$(`${id("select-notification")}:not([disabled])`);
    expect(boxes).toHaveLength(3);
    await boxes[0]!.check();
    await boxes[1]!.check();
    expect(await page.textContent(id("mark-selected-read"))).toContain("（2）");
    await screenshot(page, "notifications-02-selected-zh-CN");
    await page.click(id("mark-selected-read"));
    await page.waitForSelector(`${id("notification-bell")}[data-count="1"]`);
    // The count and the list are separate queries: the list catches up when its refetch lands.
    await expect
      .poll(async () => (await page.$$(`${id("notification-item")}[data-unread="true"]`)).length, { timeout: 15_000 })
      .toBe(1);

    // Muting the project from a notification's menu: Bob's next request tells Carol nothing.
    await page.click(`${id("notification-row")} >> nth=0 >> ${id("notification-menu")}`);
    await page.click(id("mute-project"));
    await page.waitForSelector(id("muted-projects"));
    expect(await page.textContent(id("muted-projects"))).toContain("Web Shop");
    await screenshot(page, "notifications-03-muted-zh-CN");
    await bob.s.api.deployments.request.mutate({ environmentId: production.id, spec: { replicas: 7 } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.getAttribute(id("notification-bell"), "data-count")).toBe("1");

    // The project's header says it is muted, and unmutes it; the next request reaches Carol again.
    await page.goto(`${server.url}/orgs/acme-corp/projects/web-shop`);
    await page.waitForSelector(`${id("project-mute")}[data-muted="true"]`);
    expect(await page.textContent(id("project-mute"))).toContain("取消屏蔽通知");
    await screenshot(page, "notifications-04-project-muted-zh-CN");
    await page.click(id("project-mute"));
    await page.waitForSelector(`${id("project-mute")}[data-muted="false"]`);
    await bob.s.api.deployments.request.mutate({ environmentId: production.id, spec: { replicas: 8 } });
    await page.waitForSelector(`${id("notification-bell")}[data-count="2"]`, { timeout: 20_000 });

    // Bob, in English: the rejection names who, and why.
    const rejected = await bob.s.api.deployments.request.mutate({
      environmentId: production.id,
      spec: { replicas: 9 },
    });
    await carol.s.api.deployments.reject.mutate({ deploymentId: rejected.id, comment: "Not during the sale" });
    const bobPage = await pageOf(bob.s, "en", problems, "bob");
    await bobPage.goto(`${server.url}/notifications`);
    await bobPage.waitForSelector(`${id("notification-item")}[data-kind="deployment.rejected"]`, { timeout: 20_000 });
    expect(await bobPage.textContent(`${id("notification-item")}[data-kind="deployment.rejected"]`)).toContain(
      "Carol rejected your deployment #6 to production in Web Shop: 1 setting changed.“Not during the sale”",
    );
    await screenshot(bobPage, "notifications-05-rejected-en");
    expect(problems).toEqual([]);
  });
});
