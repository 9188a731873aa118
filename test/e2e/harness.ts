import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { createTestDatabase, freePort } from "../helpers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const screenshotDir = path.join(root, "test-results", "screenshots");

export interface RunningServer {
  url: string;
  output: string[];
  stop(): Promise<void>;
}

/** The production bundle, as `npm start` runs it, on a fresh database. */
export async function startBuiltServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const bundle = path.join(root, "apps/server/dist/bin/main.js");
  if (!existsSync(bundle) || !existsSync(path.join(root, "apps/web/dist/index.html"))) {
    throw new Error("Build first: npm run build (npm run test:e2e does it)");
  }
  const db = await createTestDatabase();
  const port = await freePort();
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [bundle], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output.join("")}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server not ready: ${output.join("")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await db.drop();
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export async function newContext(browser: Browser, locale: "en" | "zh-CN"): Promise<BrowserContext> {
  return browser.newContext({ locale, viewport: { width: 1280, height: 860 } });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * Collects page errors and missing translations (vue-i18n's "Not found 'x' key in 'zh-CN' locale messages",
 * logged by the app's `missing` handler in every build) into `problems`.
 */
export function watchPage(page: Page, problems: string[], who: string): void {
  page.on("pageerror", (e) => problems.push(`${who}: page error: ${e.message}`));
  page.on("console", (m) => {
    const text = m.text();
    if (/not found .* key|fall back to/i.test(text)) problems.push(`${who}: missing translation: ${text}`);
  });
}
