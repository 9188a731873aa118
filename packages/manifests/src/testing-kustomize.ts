// Test support: the real kustomize for the render-verification tests. Not part of the package's API.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type KustomizeTool, locateKustomize } from "./kustomize-build.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
export const bundledKubectl = path.join(root, ".tools", "kubectl-v35", "kubectl");

/**
 * kustomize from PATH, JUANIE_KUSTOMIZE or the bundled kubectl, fetched when missing. Throws when there is
 * none: these tests are the proof that deploys are verified, so they never skip silently.
 */
export async function testKustomize(): Promise<KustomizeTool> {
  const configured = process.env.JUANIE_KUSTOMIZE ?? null;
  let tool = await locateKustomize({ configured, fallbacks: [bundledKubectl] });
  if (!tool && !configured) {
    spawnSync(process.execPath, [path.join(root, "scripts", "fetch-kubectl.mjs"), "--quiet"], { stdio: "inherit" });
    tool = await locateKustomize({ fallbacks: [bundledKubectl] });
  }
  if (!tool) throw new Error("no kustomize for the tests: run `node scripts/fetch-kubectl.mjs` or put kubectl on PATH");
  return tool;
}
