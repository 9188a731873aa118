import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

/**
 * Issue 10, layout and session: the main pages on a phone (390 px) and on a desktop (1440 px) — no horizontal
 * page scroll, a header whose navigation folds behind a menu button, tables that scroll inside themselves —
 * and signing out leaves nothing of the previous user for the next one to see.
 */

const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-layout-token";
const password = "correct horse battery";

let browser: Browser;
let git: GitServer;
let sim: KubeSim;
let server: RunningServer;
let world: Awaited<ReturnType<typeof buildWorld>>;

beforeAll(async () => {
  [git, sim] = await Promise.all([startGitServer({ token }), startKubeSim()]);
  server = await startBuiltServer({
    JUANIE_ALLOW_LOCAL_REPOSITORIES: "true",
    JUANIE_ALLOW_SIGNUP: "true",
    JUANIE_SCHEDULER_INTERVAL_MS: "300",
  });
  browser = await launchBrowser();
  world = await buildWorld();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await Promise.all([git?.close(), sim?.close()]);
});

/**
 * Ada's organization with long names (they are what overflows first), a repository, the suggested
 * environments, a cluster, a team, a committed deployment and an approval request from a colleague (a notification).
 * Bea signed up on her own and has an organization of her own: she shares nothing with Ada.
 */
async function buildWorld() {
  const ada = new Session(server.url);
  await ada.api.auth.setup.mutate({
    email: "ada@example.com",
    username: "ada",
    displayName: "Ada Lovelace-Byron",
    password,
  });
  const org = await ada.api.orgs.create.mutate({ name: "Acme Corporation International Holdings", slug: "acme" });
  const project = await ada.api.projects.create.mutate({
    organizationId: org.id,
    name: "Customer Checkout Storefront Experience",
    slug: "checkout-storefront-experience-service",
    visibility: "private",
  });
  const repo = await ada.api.repositories.connect.mutate({
    projectId: project.id,
    provider: "git",
    url: await git.createRepo("checkout-storefront-experience-service"),
    credential: { type: "token", token },
    registerWebhook: false,
  });
  await ada.api.repositories.initializeLayout.mutate({
    repositoryId: repo.id,
    image: "registry.internal.acme-corporation.example.com/storefront/checkout-experience:1.0.0",
    port: 8080,
  });
  const envs = await ada.api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repo.id });
  const development = envs.find((e) => e.name === "development")!;
  const production = envs.find((e) => e.name === "production")!;
  const cluster = await ada.api.clusters.register.mutate({
    organizationId: org.id,
    name: "edge-frankfurt-primary-production-cluster",
    connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig() },
  });

  const team = await ada.api.teams.create.mutate({
    organizationId: org.id,
    name: "Platform Reliability and Release Engineering",
    slug: "platform-reliability-release-engineering",
  });

  const deployment = await ada.api.deployments.request.mutate({
    environmentId: development.id,
    spec: {
      image: "registry.internal.acme-corporation.example.com/storefront/checkout-experience:1.1.0-rc.20261204",
      replicas: 2,
    },
  });
  for (let i = 0; ; i++) {
    const d = await ada.api.deployments.get.query({ deploymentId: deployment.id });
    if (d.commitSha) break;
    if (i > 300) throw new Error(`deployment never committed: ${d.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // Carl asks for production: Ada, who may approve, gets a notification.
  const { acceptUrl } = await ada.api.invitations.create.mutate({
    organizationId: org.id,
    invitee: "carl@example.com",
    role: "member",
  });
  const invitationToken = acceptUrl.split("/invitations/")[1]!;
  const carl = new Session(server.url);
  const carlMe = await carl.api.auth.signUp.mutate({
    invitationToken,
    email: "carl@example.com",
    username: "carl",
    displayName: "Carl Colleague",
    password,
  });
  await carl.api.invitations.acceptByToken.mutate({ token: invitationToken });
  await ada.api.projects.addMember.mutate({ projectId: project.id, userId: carlMe.id, role: "developer" });
  await ada.api.teams.addMember.mutate({ teamId: team.id, userId: carlMe.id, role: "member" });
  await carl.api.deployments.request.mutate({ environmentId: production.id, spec: { replicas: 4 } });
  for (let i = 0; ; i++) {
    const { items } = await ada.api.notifications.list.query({});
    if (items.length) break;
    if (i > 300) throw new Error("Ada never got the approval notification");
    await new Promise((r) => setTimeout(r, 100));
  }

  const bea = new Session(server.url);
  await bea.api.auth.signUp.mutate({
    email: "bea@example.com",
    username: "bea",
    displayName: "Bea Builder",
    password,
  });
  const beaOrg = await bea.api.orgs.create.mutate({ name: "Bravo Labs", slug: "bravo" });
  await bea.api.projects.create.mutate({
    organizationId: beaOrg.id,
    name: "Bravo API",
    slug: "bravo-api",
    visibility: "private",
  });

  return { ada, org, project, clusterId: cluster.id, deploymentId: deployment.id };
}

async function pageAt(width: number, height: number, problems: string[], who: string, session?: Session) {
  const ctx = await browser.newContext({ locale: "en", viewport: { width, height } });
  if (session) {
    await ctx.addCookies([{ name: "juanie_session", value: session.cookie!.split("=")[1]!, url: server.url }]);
  }
  const page = await ctx.newPage();
  watchPage(page, problems, who);
  return page;
}

/**
 * How the page sits in the viewport: whether the document scrolls sideways, the elements sticking out
 * to the right without a scrolling box around them (for the failure message), and the tables that are
 * neither inside a box scrolling on its own nor wider than that box allows.
 */
async function measure(page: Page) {
  // Code inside page.evaluate runs in the browser, so it is a string (the file is type-checked without the DOM).
  return (await page.evaluate(`(() => {
    const vw = window.innerWidth;
    const scrolls = (el) => {
      for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === "auto" || o === "scroll" || o === "hidden") return p;
      }
      return null;
    };
    const describe = (el) =>
      el.tagName.toLowerCase() + (el.dataset.testid ? "[" + el.dataset.testid + "]" : "") +
      (el.className && typeof el.className === "string" ? "." + el.className.split(" ").slice(0, 4).join(".") : "") +
      " right=" + Math.round(el.getBoundingClientRect().right);
    const sticking = [...document.body.querySelectorAll("*")]
      .filter((el) => el.getBoundingClientRect().right > vw + 1 && !scrolls(el))
      .slice(-5)
      .map(describe);
    const tables = [...document.querySelectorAll("main table")].filter((t) => t.offsetParent !== null);
    const unboxedTables = tables.filter((t) => {
      const box = scrolls(t);
      return !box || box.getBoundingClientRect().right > vw + 1;
    }).map(describe);
    return {
      viewport: vw,
      scrollWidth: document.documentElement.scrollWidth,
      sticking,
      tables: tables.length,
      unboxedTables,
    };
  })()`)) as { viewport: number; scrollWidth: number; sticking: string[]; tables: number; unboxedTables: string[] };
}

async function expectFits(page: Page, name: string) {
  const m = await measure(page);
  expect({ name, ...m, scrollWidth: m.scrollWidth <= m.viewport }).toEqual({
    name,
    ...m,
    scrollWidth: true,
    sticking: [],
    unboxedTables: [],
  });
  return m;
}

/** Waits until the page has rendered and none of its queries is still loading. */
async function settled(page: Page) {
  await page.waitForFunction(
    `document.querySelector("main")?.children.length > 0 && !document.querySelector('main [data-testid="loading"]')`,
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForTimeout(300);
}

/** Every page that matters, each with what shows it has loaded. */
function mainPages() {
  const projectUrl = `/orgs/acme/projects/${world.project.slug}`;
  return [
    { name: "orgs", path: "/orgs", ready: `text=${world.org.name}` },
    { name: "org-projects", path: "/orgs/acme", ready: id("project-row") },
    { name: "project-overview", path: projectUrl, ready: id("project-visibility-value") },
    { name: "project-repository", path: `${projectUrl}/repository`, ready: id("repo-info") },
    { name: "environments", path: `${projectUrl}/environments`, ready: `${id("env-card")}[data-name="production"]` },
    { name: "project-deployments", path: `${projectUrl}/deployments`, ready: id("deployment-row") },
    { name: "project-members", path: `${projectUrl}/members`, ready: id("project-member-row") },
    { name: "project-settings", path: `${projectUrl}/settings`, ready: id("save-project") },
    { name: "deployments", path: "/deployments", ready: id("deployment-row") },
    { name: "deployment", path: `/deployments/${world.deploymentId}`, ready: id("deployment-status") },
    { name: "audit", path: "/audit", ready: id("audit-row") },
    { name: "clusters", path: "/orgs/acme/clusters", ready: id("cluster-row") },
    { name: "cluster", path: `/orgs/acme/clusters/${world.clusterId}`, ready: id("cluster-details") },
    { name: "org-members", path: "/orgs/acme/members", ready: "main table" },
    { name: "org-teams", path: "/orgs/acme/teams", ready: id("team-row") },
    { name: "team", path: "/orgs/acme/teams/platform-reliability-release-engineering", ready: id("team-member-row") },
    { name: "org-settings", path: "/orgs/acme/settings", ready: id("save-org") },
    { name: "notifications", path: "/notifications", ready: id("notification-item") },
    { name: "profile", path: "/profile", ready: id("save-profile") },
  ];
}

describe("layout", () => {
  it("at 390 px every main page fits the width, the navigation folds into a menu and tables scroll inside", async () => {
    const problems: string[] = [];
    const page = await pageAt(390, 844, problems, "ada@390", world.ada);
    let tablesSeen = 0;
    for (const p of mainPages()) {
      await page.goto(`${server.url}${p.path}`);
      await page.waitForSelector(p.ready, { timeout: 30_000 });
      await screenshot(page, `layout-390-${p.name}`);
      tablesSeen += (await expectFits(page, p.name)).tables;

      // The header: the account menu and the bell are on screen, the links behind the menu button.
      for (const control of ["user-menu", "notification-bell", "nav-menu"]) {
        const box = (await page.locator(id(control)).boundingBox())!;
        expect(box, `${p.name}: ${control}`).not.toBeNull();
        expect(box.x + box.width, `${p.name}: ${control} right edge`).toBeLessThanOrEqual(390);
      }
      expect(await page.isVisible(id("nav-audit"))).toBe(false);
    }
    expect(tablesSeen).toBeGreaterThan(3);

    // The menu button opens the navigation; following a link closes it again.
    await page.click(id("nav-menu"));
    await page.waitForSelector(id("nav-audit"), { state: "visible" });
    expect(await page.getAttribute(id("nav-menu"), "aria-expanded")).toBe("true");
    await screenshot(page, "layout-390-nav-open");
    await expectFits(page, "nav-open");
    await page.click(id("nav-deployments"));
    await page.waitForURL(/\/deployments$/);
    await page.waitForSelector(id("nav-audit"), { state: "hidden" });

    // The account menu opens inside the screen.
    await page.click(id("user-menu"));
    const signOut = (await page.locator(id("sign-out")).boundingBox())!;
    expect(signOut.x).toBeGreaterThanOrEqual(0);
    expect(signOut.x + signOut.width).toBeLessThanOrEqual(390);
    await page.keyboard.press("Escape");

    // The deploy dialog, open on a phone.
    await page.goto(`${server.url}/orgs/acme/projects/${world.project.slug}/environments`);
    await page.click(`${id("env-card")}[data-name="development"] ${id("deploy")}`);
    await page.waitForSelector(id("deploy-image"));
    await screenshot(page, "layout-390-deploy-dialog");
    await expectFits(page, "deploy-dialog");
    const dialog = (await page.locator(id("deploy-dialog")).boundingBox())!;
    expect(dialog.x).toBeGreaterThanOrEqual(0);
    expect(dialog.x + dialog.width).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
  });

  it("at 1440 px the same pages keep the desktop layout: links in the header, tables at full width", async () => {
    const problems: string[] = [];
    const page = await pageAt(1440, 900, problems, "ada@1440", world.ada);
    for (const p of mainPages()) {
      await page.goto(`${server.url}${p.path}`);
      await page.waitForSelector(p.ready, { timeout: 30_000 });
      await screenshot(page, `layout-1440-${p.name}`);
      await expectFits(page, p.name);
      expect(await page.isVisible(id("nav-menu"))).toBe(false);
      for (const link of ["nav-orgs", "nav-deployments", "nav-audit"])
        expect(await page.isVisible(id(link))).toBe(true);
      // The content column keeps its width (max-w-6xl) and tables do not need to scroll at this width.
      const main = (await page.locator("main").boundingBox())!;
      expect(main.width).toBeGreaterThan(1100);
      const squeezed = await page.evaluate(
        `[...document.querySelectorAll("main table")].filter((t) => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1).length`,
      );
      expect(squeezed, `${p.name}: tables scrolling at 1440 px`).toBe(0);
    }
    await page.goto(`${server.url}/orgs/acme/projects/${world.project.slug}/environments`);
    await page.click(`${id("env-card")}[data-name="development"] ${id("deploy")}`);
    await page.waitForSelector(id("deploy-image"));
    await screenshot(page, "layout-1440-deploy-dialog");
    await expectFits(page, "deploy-dialog");
    expect(problems).toEqual([]);
  });
});

describe("session", () => {
  it("after signing out, the next user sees nothing of the previous one — not even through the back button", async () => {
    const problems: string[] = [];
    const page = await pageAt(1280, 860, problems, "shared browser");
    const signIn = async (login: string) => {
      await page.goto(`${server.url}/sign-in`);
      await page.fill(id("sign-in-login"), login);
      await page.fill(id("sign-in-password"), password);
      await page.click(id("submit"));
      await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
    };

    // Ada looks around: her organization, project, deployments and notifications fill the cache.
    await signIn("ada");
    await page.waitForSelector(`text=${world.org.name}`);
    const projectUrl = `${server.url}/orgs/acme/projects/${world.project.slug}`;
    const visits: [string, string][] = [
      [`${server.url}/orgs/acme`, id("project-row")],
      [projectUrl, id("project-title")],
      [`${projectUrl}/environments`, id("env-card")],
      [`${server.url}/deployments`, id("deployment-row")],
      [`${server.url}/deployments/${world.deploymentId}`, id("deployment-status")],
      [`${server.url}/notifications`, id("notification-item")],
    ];
    for (const [url, ready] of visits) {
      await page.goto(url);
      await page.waitForSelector(ready, { timeout: 30_000 });
    }
    // Client-side navigation too, so the history holds in-app entries with Ada's data.
    await page.click(id("nav-orgs"));
    await page.waitForSelector(`text=${world.org.name}`);
    await page.click(id("nav-deployments"));
    await page.waitForSelector(id("deployment-row"));
    expect(await page.textContent("header")).not.toContain("Bea");
    await page.click(id("notification-bell"));
    await page.waitForSelector(id("notification-item"));
    await page.keyboard.press("Escape");
    // Something the deploy form remembers for her, keyed by her environment.
    await page.evaluate(`localStorage.setItem("juanie.deploy.target.x", '{"kind":"Deployment"}')`);
    // A preference of the browser, not of Ada: chosen here, kept after signing out.
    await page.selectOption(id("locale-switch"), "zh-CN");
    await page.selectOption(id("locale-switch"), "en");

    // Sign out: straight to the sign-in page, nothing of Ada's left in the header.
    await page.click(id("user-menu"));
    await page.click(id("sign-out"));
    await page.waitForURL((u) => u.pathname === "/sign-in");
    await page.waitForSelector(id("sign-in-login"));
    expect(await page.isVisible(id("user-menu"))).toBe(false);
    expect(await page.isVisible(id("notification-bell"))).toBe(false);
    expect(new URL(page.url()).search).toBe("");
    const body = (await page.textContent("body"))!;
    for (const word of ["Ada", "Acme", "Checkout"]) expect(body).not.toContain(word);
    const storage = JSON.parse(
      (await page.evaluate(
        `JSON.stringify(Object.keys(localStorage).filter((k) => k.startsWith("juanie.")))`,
      )) as string,
    ) as string[];
    expect(storage).not.toContain("juanie.deploy.target.x");
    expect(storage).toContain("juanie.locale");
    await screenshot(page, "session-01-signed-out");

    // The back button while signed out leads to the sign-in page, not to Ada's deployments.
    await page.goBack();
    await page.waitForSelector(id("sign-in-login"));
    expect(await page.textContent("body")).not.toContain("Checkout");

    // Bea signs in on the same browser.
    await signIn("bea");
    await page.waitForSelector(`text=Bravo Labs`);
    await page.waitForSelector(`${id("user-menu")}:has-text("Bea Builder")`);
    await screenshot(page, "session-02-next-user");
    const adaWords = ["Ada", "Acme", "Checkout", "Storefront", "Carl"];
    const expectNoAda = async (where: string) => {
      const text = (await page.textContent("body"))!;
      for (const word of adaWords) expect(text, `${where} shows "${word}"`).not.toContain(word);
      const alts = await page.evaluate(
        `[...document.querySelectorAll("img")].map((i) => i.src + " " + i.alt).join("|")`,
      );
      expect(alts).not.toMatch(/ada/i);
    };
    await expectNoAda("orgs");
    expect(await page.textContent(id("user-menu"))).toContain("Bea Builder");
    // The header initial is hers.
    expect((await page.textContent(id("user-menu")))!.trim().startsWith("B")).toBe(true);

    // Her own pages: deployments and notifications are hers (empty), the bell counts nothing of Ada's.
    await page.click(id("nav-deployments"));
    await page.waitForURL(/\/deployments$/);
    await page.waitForSelector("main .border-dashed", { timeout: 30_000 });
    await expectNoAda("deployments");
    expect(await page.locator(id("deployment-row")).count()).toBe(0);
    await page.waitForSelector(`${id("notification-bell")}[data-count="0"]`);
    await page.goto(`${server.url}/notifications`);
    await page.waitForSelector("main .border-dashed", { timeout: 30_000 });
    expect(await page.locator(id("notification-item")).count()).toBe(0);
    await expectNoAda("notifications");

    // Back through the history, into Ada's addresses: nothing of hers appears, at any moment we look.
    for (let i = 0; i < 8; i++) {
      await page.goBack().catch(() => undefined);
      await settled(page);
      await expectNoAda(`history step ${i + 1} (${page.url()})`);
    }
    // Her deployment and project, by address: refused, with nothing of Ada's on the page.
    for (const url of [`${server.url}/deployments/${world.deploymentId}`, projectUrl]) {
      await page.goto(url);
      await settled(page);
      await expectNoAda(url);
    }
    await screenshot(page, "session-03-ada-project-refused");
    expect(problems).toEqual([]);
  });
});
