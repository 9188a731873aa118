import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { launchBrowser, newContext, screenshot, watchPage } from "./harness.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves with the output once `pattern` appears in it; rejects when the process exits first or at the deadline. */
function outputMatching(child: ChildProcess, output: () => string, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(output())) {
        cleanup();
        resolve(output());
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the demo exited (${code}) before printing ${pattern}:\n${output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} after ${ms / 1000} s:\n${output()}`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", check);
    child.once("exit", onExit);
    check();
  });
}

/** Whether something accepts connections at the URL's host and port. */
function listening(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname === "localhost" ? "127.0.0.1" : u.hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * `npm run demo` as a user runs it (its script, on its own ports and data dir): it comes up with a simulated cluster
 * where Flux was installed from the mirror and development is healthy, prints a working sign-in and kubeconfig,
 * and Ctrl-C stops every piece.
 */
describe("npm run demo", () => {
  let child: ChildProcess | undefined;
  let dir: string;
  let demoDir: string;
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child?.once("exit", r));
      child.kill("SIGINT");
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs the demo script as `npm run demo` does, on free ports and the test's data dir; `out()` is what it printed. */
  async function startDemo(): Promise<{ child: ChildProcess; out: () => string; port: number }> {
    const port = await freePort();
    let out = "";
    const c = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts"], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        JUANIE_DEMO_DIR: demoDir,
        JUANIE_EMBEDDED_PG_PORT: String(await freePort()),
        DATABASE_URL: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, as in a terminal: Ctrl-C goes to the whole foreground group.
      detached: true,
    });
    c.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    c.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child = c;
    return { child: c, out: () => out, port };
  }

  it("prints the URL and a working sign-in; the cluster, Flux and a healthy development are there; Ctrl-C stops all", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "juanie-demo-e2e-"));
    // As root, the embedded PostgreSQL runs as its own user, which must be able to enter the directory.
    await chmod(dir, 0o755);
    demoDir = path.join(dir, "demo");
    // Data of an earlier demo: gone after the start.
    await mkdir(demoDir, { recursive: true });
    await writeFile(path.join(demoDir, "left-over"), "from an earlier demo");
    const demo = await startDemo();
    const { child, port } = demo;
    const started = Date.now();
    // The whole banner: from "ready" to the closing rule after the Ctrl-C hint.
    const out = await outputMatching(child, demo.out, /Ctrl-C stops everything.*\n=+\n/, 280_000);
    const upIn = (Date.now() - started) / 1000;

    expect(out).toContain("every demo starts fresh");
    expect(existsSync(path.join(demoDir, "left-over"))).toBe(false);
    const url = /Open:\s+(\S+)/.exec(out)?.[1];
    expect(url).toBe(`http://localhost:${port}`);
    const [, username, password] = /Sign in:\s+(\S+) \/ (\S+)/.exec(out)!;
    expect(out).toMatch(/demo-cluster — SIMULATED/);
    expect(out).toContain("git clone --branch develop http://demo:");
    expect(out).toContain("Ctrl-C stops everything");

    // The printed sign-in works against the API.
    const s = new Session(url!);
    const me = await s.api.auth.signIn.mutate({ login: username!, password: password! });
    expect(me.username).toBe("admin");
    const org = await s.api.orgs.bySlug.query({ slug: "demo" });
    const project = await s.api.projects.bySlug.query({ organizationSlug: "demo", slug: "hello" });
    const clusters = await s.api.clusters.list.query({ organizationId: org.id });
    expect(clusters.map((c) => [c.name, c.simulated, c.status])).toEqual([["demo-cluster", true, "connected"]]);
    expect(clusters[0]!.serverVersion).toContain("juanie-simulator");
    const flux = await s.api.clusters.flux.query({ clusterId: clusters[0]!.id });
    expect(flux).toMatchObject({ installed: true, healthy: true, managedBy: "juanie" });
    expect(flux.operations[0]).toMatchObject({ action: "install", status: "succeeded" });

    const envs = await s.api.environments.list.query({ projectId: project.id });
    expect(envs.map((e) => e.name).sort()).toEqual(["development", "production", "staging"]);
    const dev = envs.find((e) => e.name === "development")!;
    expect(dev.cluster).toMatchObject({
      name: "demo-cluster",
      simulated: true,
      namespace: "hello-development",
      gitopsState: "applied",
    });
    expect(envs.find((e) => e.name === "staging")!.cluster?.name).toBe("demo-cluster");
    expect(envs.find((e) => e.name === "production")!.cluster).toBeNull();
    const deployments = await s.api.deployments.list.query({ environmentId: dev.id });
    expect(deployments.items.map((d) => d.status)).toContain("healthy");

    // The printed kubeconfig lets kubectl look at the simulated cluster: the app's pods run there.
    const kubeconfig = path.resolve(root, /--kubeconfig (\S+) get pods -A/.exec(out)?.[1] ?? "(not printed)");
    expect(kubeconfig).toBe(path.join(demoDir, "kubeconfig.yaml"));
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    const kubectl = path.join(root, ".tools", "kubectl-v35", "kubectl");
    if (existsSync(kubectl)) {
      const pods = await run(kubectl, ["--kubeconfig", kubeconfig, "get", "pods", "-n", "hello-development"]);
      expect(pods.stdout).toMatch(/hello-\S+\s+1\/1\s+Running/);
    }

    // A browser signs in with the printed credentials and sees development healthy.
    const browser = await launchBrowser();
    try {
      const page = await (await newContext(browser, "en")).newPage();
      const problems: string[] = [];
      watchPage(page, problems, "admin");
      await page.goto(`${url}/sign-in`);
      await page
        .getByLabel(/username|e-mail|login/i)
        .first()
        .fill(username!);
      await page
        .getByLabel(/password/i)
        .first()
        .fill(password!);
      await page.getByRole("button", { name: /sign in/i }).click();
      await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
      await page.goto(`${url}/orgs/demo/projects/hello/environments`);
      await page.getByText("Healthy").first().waitFor();
      await screenshot(page, "demo-environments");
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }

    // Ctrl-C: everything stops, the process exits 0.
    const simUrl = /simulated cluster at (\S+);/.exec(out)?.[1] ?? "";
    const gitUrl = /Local Git server at (\S+);/.exec(out)?.[1] ?? "";
    const mirrorUrl = /Flux release mirror at (\S+)/.exec(out)?.[1] ?? "";
    for (const u of [url!, simUrl, gitUrl, mirrorUrl]) expect(await listening(u)).toBe(true);
    const exited = new Promise<number | null>((r) => child?.once("exit", (code) => r(code)));
    process.kill(-child.pid!, "SIGINT");
    expect(await exited).toBe(0);
    expect(demo.out()).toContain("Stopped.");
    for (const u of [url!, simUrl, gitUrl, mirrorUrl]) expect(await listening(u)).toBe(false);
    expect(existsSync(path.join(demoDir, "postgres", "postmaster.pid"))).toBe(false);
    // The platform was stopped by the demo, in order (HTTP and jobs first, its PostgreSQL last), not killed by
    // the terminal's Ctrl-C together with its PostgreSQL: no errors while it ran, no query refused at the end.
    const log = readFileSync(path.join(demoDir, "server.log"), "utf8").split("\n");
    const stopAt = log.findIndex((l) => l.includes('"msg":"shutting down"'));
    expect(log[stopAt]).toContain('"signal":"SIGTERM"');
    expect(log.slice(0, stopAt).filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
    expect(log.filter((l) => l.includes("the database system is shutting down"))).toEqual([]);
    process.stdout.write(`npm run demo came up in ${upIn.toFixed(1)} s\n`);
  }, 400_000);

  it("a demo killed with kill -9 leaves no platform or PostgreSQL running", async () => {
    const { child, out } = await startDemo();
    await outputMatching(child, out, /Platform ready at \S+/, 180_000);
    expect(out()).toContain("every demo starts fresh");
    const url = /Platform ready at (\S+)/.exec(out())![1]!;
    expect(await listening(url)).toBe(true);
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const pidFile = path.join(demoDir, "postgres", "postmaster.pid");
    const deadline = Date.now() + 30_000;
    while ((existsSync(pidFile) || (await listening(url))) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await listening(url)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
  }, 240_000);
});
