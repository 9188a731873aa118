import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { kubectlBinary } from "./kubectl.testing.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));

it("npm run kube-sim prints the API URL, a token and a kubeconfig that kubectl can use", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-sim-cli-"));
  const kubeconfig = path.join(dir, "sim.kubeconfig");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "packages/kube-sim/src/cli.ts", "--port", "0", "--kubeconfig", kubeconfig],
    {
      cwd: root,
    },
  );
  try {
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 15_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Try: ")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    expect(out).toContain("Simulated Kubernetes cluster (juanie-simulator");
    const url = /API URL:\s+(https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const token = /token:\s+(\S+)/.exec(out)?.[1];
    expect(url).toBeTruthy();
    expect(out).toContain(`kubeconfig:  ${kubeconfig}`);
    const config = await readFile(kubeconfig, "utf8");
    expect(config).toContain(`server: ${url}`);
    expect(config).toContain(`token: ${token}`);
    const nodes = await new Promise<string>((resolve) => {
      const k = spawn(kubectlBinary, [
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        path.join(dir, "cache"),
        "get",
        "nodes",
        "-o",
        "name",
      ]);
      let text = "";
      k.stdout.on("data", (d: Buffer) => {
        text += d.toString();
      });
      k.on("close", () => resolve(text));
    });
    expect(nodes).toBe("node/sim-node-1\n");
  } finally {
    child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
});

it("npm run kube-sim -- --flux starts with Flux preinstalled: its controllers become Available", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kube-sim-cli-"));
  const kubeconfig = path.join(dir, "sim.kubeconfig");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "packages/kube-sim/src/cli.ts", "--port", "0", "--kubeconfig", kubeconfig, "--flux"],
    { cwd: root },
  );
  try {
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 15_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Try: ")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    expect(out).toContain("flux:        v2.7.3 preinstalled in flux-system");
    const waited = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const k = spawn(kubectlBinary, [
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        path.join(dir, "cache"),
        "wait",
        "-n",
        "flux-system",
        "--for=condition=Available",
        "deployment/source-controller",
        "deployment/kustomize-controller",
        "--timeout=15s",
      ]);
      let text = "";
      k.stdout.on("data", (d: Buffer) => {
        text += d.toString();
      });
      k.on("close", (code) => resolve({ code, text }));
    });
    expect(waited.text).toContain("deployment.apps/source-controller condition met");
    expect(waited.code).toBe(0);
  } finally {
    child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
});

it("refuses a Flux version it does not know, naming the option", async () => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "packages/kube-sim/src/cli.ts", "--flux", "--flux-version", "1.0.0"],
    { cwd: root },
  );
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(code).toBe(2);
  expect(err).toContain("--flux-version must be a Flux release the simulator knows");
  expect(err).toContain('got "1.0.0"');
});
